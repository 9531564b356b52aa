"""People's names in several scripts, and how each becomes an ASCII email local part.

The names are deliberately non-ASCII (diacritics, CJK, Hangul, Cyrillic, Greek, Arabic):
connectors must carry them through every tool untouched.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Letters NFKD does not decompose into ASCII.
_LATIN_EXTRAS = str.maketrans(
    {"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "Ae", "ß": "ss", "đ": "d",
     "Đ": "D", "œ": "oe", "Œ": "Oe", "'": ""}
)  # fmt: skip
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")

# Romanizations for scripts that cannot be folded letter by letter.
ROMAN: dict[str, str] = {
    # Japanese
    "山田": "yamada", "佐藤": "sato", "鈴木": "suzuki", "高橋": "takahashi", "田中": "tanaka",
    "伊藤": "ito", "渡辺": "watanabe", "太郎": "taro", "健太": "kenta", "大輝": "daiki",
    "翔": "sho", "蓮": "ren", "花子": "hanako", "美咲": "misaki", "陽菜": "hina",
    "結衣": "yui", "さくら": "sakura",
    # Korean
    "김": "kim", "이": "lee", "박": "park", "최": "choi", "정": "jung", "민준": "minjun",
    "도윤": "doyun", "시우": "siwoo", "서연": "seoyeon", "지우": "jiwoo", "하은": "haeun",
    # Cyrillic
    "Ана": "ana", "Мария": "maria", "Елена": "elena", "Ирина": "irina", "Дарья": "darya",
    "Иван": "ivan", "Дмитрий": "dmitry", "Алексей": "alexey", "Никола": "nikola",
    "Павел": "pavel", "Петров": "petrov", "Петрова": "petrova", "Иванов": "ivanov",
    "Иванова": "ivanova", "Соколов": "sokolov", "Соколова": "sokolova", "Попов": "popov",
    "Попова": "popova", "Георгиев": "georgiev", "Георгиева": "georgieva",
    # Greek
    "Ελένη": "eleni", "Μαρία": "maria", "Κατερίνα": "katerina", "Νίκος": "nikos",
    "Γιώργος": "giorgos", "Δημήτρης": "dimitris", "Παπαδόπουλος": "papadopoulos",
    "Παπαδοπούλου": "papadopoulou", "Οικονόμου": "oikonomou", "Γεωργίου": "georgiou",
    "Καραγιάννης": "karagiannis", "Καραγιάννη": "karagianni",
    # Arabic
    "ليلى": "layla", "سارة": "sara", "نور": "nour", "كريم": "karim", "يوسف": "youssef",
    "عمر": "omar", "حداد": "haddad", "منصور": "mansour", "الخطيب": "alkhatib",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Culture:
    """Name pools of one naming tradition; surnames are (male form, female form)."""

    female: tuple[str, ...]
    male: tuple[str, ...]
    surnames: tuple[tuple[str, str], ...]
    family_first: bool = False
    joiner: str = " "

    def display(self, given: str, family: str) -> str:
        """The name as the person writes it."""
        if self.family_first:
            return f"{family}{self.joiner}{given}"
        return f"{given} {family}"


def _same(*names: str) -> tuple[tuple[str, str], ...]:
    return tuple((name, name) for name in names)


CULTURES: tuple[Culture, ...] = (
    Culture(("Zoë", "Anaïs", "Clémence", "Hélène", "Maëlle", "Inès"),
            ("Théo", "Jérôme", "Benoît", "Loïc", "Gaël", "François"),
            _same("Lefèvre", "Bénard", "Giraud", "Mercier", "Lemaître", "Chénier")),
    Culture(("Małgorzata", "Zofia", "Agnieszka", "Katarzyna", "Joanna"),
            ("Łukasz", "Paweł", "Michał", "Wojciech", "Tomasz"),
            (("Wójcik", "Wójcik"), ("Kowalski", "Kowalska"), ("Wiśniewski", "Wiśniewska"),
             ("Dąbrowski", "Dąbrowska"), ("Zieliński", "Zielińska"), ("Nowak", "Nowak"))),
    Culture(("Ingrid", "Åsa", "Sigrid", "Liv", "Märta"),
            ("Søren", "Bjørn", "Jørgen", "Håkon", "Anders"),
            _same("Ødegaard", "Bjørnstad", "Lindqvist", "Åberg", "Sæther", "Nyström")),
    Culture(("María José", "Lucía", "Begoña", "Inés", "Ainhoa"),
            ("José Ángel", "Iñaki", "Joaquín", "Álvaro", "Rubén"),
            _same("Núñez", "Peña", "Ibáñez", "Muñoz", "Gómez", "Fernández")),
    Culture(("Käthe", "Jördis", "Anneliese", "Lütfiye"),
            ("Jürgen", "Jörg", "Björn", "Günther"),
            _same("Müller", "Groß", "Schäfer", "Köhler", "Weiß")),
    Culture(("Thu Hà", "Ngọc Ánh", "Minh Thư", "Phương Linh"),
            ("Văn Đức", "Quốc Bảo", "Minh Khôi", "Hữu Phước"),
            _same("Nguyễn", "Trần", "Lê", "Phạm", "Đặng"), family_first=True),
    Culture(("花子", "美咲", "陽菜", "結衣", "さくら"),
            ("太郎", "健太", "大輝", "翔", "蓮"),
            _same("山田", "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺"), family_first=True),
    Culture(("서연", "지우", "하은"), ("민준", "도윤", "시우"),
            _same("김", "이", "박", "최", "정"), family_first=True, joiner=""),
    Culture(("Ана", "Мария", "Елена", "Ирина", "Дарья"),
            ("Иван", "Дмитрий", "Алексей", "Никола", "Павел"),
            (("Петров", "Петрова"), ("Иванов", "Иванова"), ("Соколов", "Соколова"),
             ("Попов", "Попова"), ("Георгиев", "Георгиева"))),
    Culture(("Ελένη", "Μαρία", "Κατερίνα"), ("Νίκος", "Γιώργος", "Δημήτρης"),
            (("Παπαδόπουλος", "Παπαδοπούλου"), ("Οικονόμου", "Οικονόμου"),
             ("Γεωργίου", "Γεωργίου"), ("Καραγιάννης", "Καραγιάννη"))),
    Culture(("ليلى", "سارة", "نور"), ("كريم", "يوسف", "عمر"),
            _same("حداد", "منصور", "الخطيب")),
    Culture(("Sarah", "Grace", "Hannah", "Aoife", "Priya"),
            ("James", "Marcus", "Owen", "Kwame", "Rhys"),
            _same("Whitaker", "O'Connor", "Brooks", "Patel", "Okafor", "Hughes")),
)  # fmt: skip


def ascii_fold(text: str) -> str:
    """Lower-case ASCII letters and digits only: "Łukasz" -> "lukasz", "太郎" -> "taro"."""
    if text in ROMAN:
        return ROMAN[text]
    decomposed = unicodedata.normalize("NFKD", text.translate(_LATIN_EXTRAS))
    plain = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    return _NOT_ALNUM.sub("", plain)


def all_names() -> list[tuple[str, str, str]]:
    """Every (display name, given, family) the cultures can form, in a fixed order."""
    names: list[tuple[str, str, str]] = []
    for culture in CULTURES:
        for male, female in culture.surnames:
            names.extend((culture.display(g, female), g, female) for g in culture.female)
            names.extend((culture.display(g, male), g, male) for g in culture.male)
    return names
