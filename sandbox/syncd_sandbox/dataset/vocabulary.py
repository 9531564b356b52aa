"""The studio's words: departments, pipeline steps, asset names, ticket summaries, labels.

"Harbor Lights" is an action-adventure game about Mira, a lighthouse keeper's daughter in
a smugglers' harbor town. Everything here is constant data; the generator draws from it.
"""

from __future__ import annotations

# Department -> share of the non-lead headcount.
DEPARTMENT_SHARES: tuple[tuple[str, float], ...] = (
    ("Art", 28), ("Animation", 14), ("Design", 10), ("Engineering", 20),
    ("Audio", 5), ("QA", 10), ("VFX", 8), ("Production", 5),
)  # fmt: skip
FOCUS_HOURS_PER_PERSON = 32  # a week's plannable hours once meetings and reviews are out

# ShotGrid pipeline steps: (id, name, department, (min days, max days) of one task).
STEP_PLAN: tuple[tuple[int, str, str, tuple[int, int]], ...] = (
    (1, "Concept", "Art", (1, 5)),
    (2, "Model", "Art", (3, 15)),
    (3, "Rig", "Animation", (2, 8)),
    (4, "Texture", "Art", (2, 8)),
    (5, "Surfacing", "Art", (1, 5)),
    (6, "Animation", "Animation", (2, 10)),
    (7, "Layout", "Animation", (1, 4)),
    (8, "Lighting", "Art", (1, 5)),
    (9, "FX", "VFX", (1, 6)),
    (10, "Comp", "VFX", (1, 3)),
)

# Asset type -> (code prefix, share of assets, pipeline step names in order).
ASSET_TYPES: dict[str, tuple[str, float, tuple[str, ...]]] = {
    "Character": ("chr", 20, ("Concept", "Model", "Rig", "Texture", "Surfacing", "Animation")),
    "Prop": ("prp", 35, ("Concept", "Model", "Texture")),
    "Environment": ("env", 20, ("Concept", "Model", "Texture", "Surfacing", "Lighting")),
    "Vehicle": ("veh", 8, ("Concept", "Model", "Rig", "Texture")),
    "FX": ("fx", 17, ("Concept", "FX")),
}
SHOT_STEPS: tuple[str, ...] = ("Layout", "Animation", "Lighting", "FX", "Comp")
SHOT_SHARE = 0.3  # of the entities drawn; shots carry more tasks each than most assets

# Asset code parts: code = f"{prefix}_{noun}_{variant}", e.g. chr_mira_hero.
ASSET_NOUNS: dict[str, tuple[str, ...]] = {
    "Character": ("mira", "tomas", "vell", "keeper", "harbormaster", "smuggler", "guard",
                  "fisher", "gull", "kraken", "widow_ro", "priest", "urchin", "merchant"),
    "Prop": ("lantern", "crate", "barrel", "anchor", "compass", "rope_coil", "net", "oar",
             "bell", "ledger", "cutlass", "spyglass", "lens", "bottle", "key"),
    "Environment": ("harbor", "lighthouse", "market", "cliffs", "sewers", "chapel", "docks",
                    "caves", "tavern", "watchtower", "shipyard", "fishery"),
    "Vehicle": ("skiff", "cart", "rowboat", "ferry", "schooner", "diving_bell"),
    "FX": ("rain", "fog", "sparks", "splash", "fire", "smoke", "beam", "waves", "embers"),
}  # fmt: skip
ASSET_VARIANTS: dict[str, tuple[str, ...]] = {
    "Character": ("hero", "npc", "young", "winter", "damaged", "cinematic", "lod1"),
    "Prop": ("a", "b", "c", "broken", "gold", "wet"),
    "Environment": ("day", "night", "storm", "dawn", "interior", "ruined"),
    "Vehicle": ("a", "b", "damaged", "rigged"),
    "FX": ("heavy", "light", "loop", "burst"),
}

# Jira work outside the art pipeline: department -> (share, issue-type shares, summaries).
TICKET_DEPARTMENTS: dict[str, tuple[float, tuple[tuple[str, float], ...]]] = {
    "Engineering": (45, (("Task", 55), ("Story", 25), ("Bug", 20))),
    "Design": (18, (("Story", 50), ("Task", 50))),
    "QA": (20, (("Bug", 85), ("Task", 15))),
    "Audio": (10, (("Task", 80), ("Bug", 20))),
    "Production": (7, (("Task", 100),)),
}

# Summary templates; {name} slots are filled from SUMMARY_PARTS.
SUMMARY_TEMPLATES: dict[str, tuple[str, ...]] = {
    "Engineering": ("Implement {feature}", "Fix {symptom} in {system}",
                    "Optimize {system} on {platform}", "Refactor {system}",
                    "Add telemetry for {feature}", "Port {system} to {platform}"),
    "Design": ("Tune {mechanic} in {area}", "Blockout {area}", "Write quest: {quest}",
               "Balance {mechanic}", "Playtest feedback: {area}"),
    "QA": ("{symptom} when {action} in {area}", "Regression: {feature} broken after patch",
           "Cert: {cert}", "{symptom} on {platform} after {action}"),
    "Audio": ("Record VO: {character} — {scene}", "Footsteps on {surface}",
              "Mix pass: {area}", "SFX for {feature}"),
    "Production": ("Prepare {report}", "Milestone review: {milestone}",
                   "Vendor onboarding: {vendor}", "Update risk register"),
}  # fmt: skip
SUMMARY_PARTS: dict[str, tuple[str, ...]] = {
    "feature": ("grappling hook", "boat traversal", "lantern lighting", "fast travel",
                "photo mode", "accessibility menu", "subtitles", "achievements",
                "cloud saves", "lock-on camera", "lighthouse beam puzzle"),
    "system": ("save system", "streaming", "AI navigation", "physics", "dialogue system",
               "inventory", "camera", "audio middleware", "build pipeline", "shader cache",
               "UI framework", "traversal"),
    "symptom": ("Crash", "Memory leak", "Frame hitch", "Desync", "Softlock", "Z-fighting",
                "T-pose", "Missing subtitles"),
    "platform": ("PS5", "Xbox Series S", "Steam Deck", "PC (DX12)"),
    "mechanic": ("combat difficulty", "stamina", "lantern fuel", "boat handling",
                 "stealth detection", "puzzle hints"),
    "area": ("Harbor District", "the Lighthouse", "Smugglers' Caves", "Old Market",
             "Cliffside Path", "Sunken Chapel", "Café Öresund"),
    "quest": ("The Keeper's Oath", "Salt & Smoke", "Nuit Blanche", "Ōkami's Bargain"),
    "action": ("fast travelling", "quick-saving", "opening the map", "swapping lanterns",
               "docking the skiff"),
    "cert": ("suspend/resume", "user switching", "trophy unlocks", "save data corruption"),
    "character": ("Mira", "Old Tomas", "Harbormaster Vell", "Widow Ro", "the Kraken"),
    "scene": ("Act 1 arrival", "Act 2 storm", "Act 3 lighthouse", "barks"),
    "surface": ("wet stone", "wooden pier", "sand", "metal grate"),
    "report": ("weekly status report", "publisher update", "burn-down review",
               "localization schedule"),
    "milestone": ("Alpha", "Content Complete", "Beta"),
    "vendor": ("Studio Łódź", "Ōkami Audio", "Motion Hall Montréal"),
}  # fmt: skip

# Label sets per department: tuples are shared by every issue that uses them.
TICKET_LABELS: dict[str, tuple[tuple[str, ...], ...]] = {
    "Engineering": ((), ("tech-debt",), ("performance",), ("crash",), ("ps5", "xbox"),
                    ("networking",), ("save-system",), ("ui", "accessibility")),
    "Design": ((), ("level-design",), ("combat",), ("narrative",), ("playtest",)),
    "QA": (("bug-bash",), ("regression",), ("cert",), ("crash", "blocker"), ()),
    "Audio": (("vo",), ("sfx",), ("music",), ("l10n", "日本語"), ()),
    "Production": ((), ("publisher",), ("vendor",)),
}  # fmt: skip
PIPELINE_LABEL = "art-pipeline"
