"""The shipped Apps Script, run under Node with stand-ins for the Apps Script services.

Checks what matters for syncd: the payloads match the sandbox's (same models, same key
order), every delivery verifies with `verify_standard`, retries keep the webhook-id and are
re-signed, the signature verifies with the reference `standardwebhooks` library too, and
onChange "EDIT" is left to onEdit. Skipped where Node is not installed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import standardwebhooks

from syncd.signatures import SignatureError, verify_standard
from syncd_sandbox.sheets.trigger import SheetChangeEvent, SheetEditEvent

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "apps-script" / "syncd-trigger.gs"
SECRET = "whsec_YXBwcy1zY3JpcHQtdGVzdC1zZWNyZXQ="
NODE = shutil.which("node")

# Minimal Apps Script services: Byte[] are signed Java bytes, as in the real runtime.
HARNESS = r"""
const fs = require('fs'), vm = require('vm'), crypto = require('crypto');
const [scriptPath, secret] = process.argv.slice(-2);
const props = {SYNCD_WEBHOOK_URL: 'https://syncd.test/webhooks/sheets/spreadsheet',
               SYNCD_WEBHOOK_SECRET: secret};
const statuses = [503];  // the first delivery fails once
const sent = [];
const toJavaBytes = (buf) => Array.from(buf).map((b) => (b > 127 ? b - 256 : b));
// Apps Script takes a String (UTF-8) or a Byte[] wherever these take bytes.
const toBuffer = (x) =>
  Array.isArray(x) ? Buffer.from(x.map((b) => b & 255)) : Buffer.from(x, 'utf8');
const ctx = {
  console: {log() {}, warn() {}, error() {}},
  Utilities: {
    Charset: {UTF_8: 'UTF-8'},
    getUuid: () => crypto.randomUUID(),
    computeHmacSha256Signature: (value, key) => toJavaBytes(crypto
      .createHmac('sha256', toBuffer(key))
      .update(toBuffer(value))
      .digest()),
    base64Encode: (bytes) => toBuffer(bytes).toString('base64'),
    base64Decode: (text) => toJavaBytes(Buffer.from(text, 'base64')),
    newBlob: (data) => ({getBytes: () => toJavaBytes(toBuffer(data))}),
  },
  PropertiesService: {getScriptProperties: () => ({
    getProperty: (k) => (k in props ? props[k] : null),
    setProperty: (k, v) => { props[k] = String(v); },
    deleteProperty: (k) => { delete props[k]; },
    getKeys: () => Object.keys(props),
  })},
  LockService: {getScriptLock: () => ({tryLock: () => true, releaseLock: () => {}})},
  UrlFetchApp: {fetch: (url, options) => {
    const status = statuses.length ? statuses.shift() : 204;
    sent.push({url, headers: options.headers, body: options.payload, status});
    return {getResponseCode: () => status, getContentText: () => ''};
  }},
};
vm.createContext(ctx);
vm.runInContext(fs.readFileSync(scriptPath, 'utf8'), ctx);
const sheet = {getSheetId: () => 1234, getName: () => 'Invoices \u2013 Q1'};
const source = {getId: () => '1SheetId', getActiveSheet: () => sheet};
const range = {getSheet: () => sheet, getA1Notation: () => 'C3:D3', getRow: () => 3,
               getLastRow: () => 3, getColumn: () => 3, getLastColumn: () => 4};
ctx.syncdOnEdit({range, source, user: {getEmail: () => 'mia@studio.example'}});
ctx.syncdOnChange({changeType: 'INSERT_ROW', source, user: {getEmail: () => ''}});
ctx.syncdOnChange({changeType: 'EDIT', source, user: {getEmail: () => 'mia@studio.example'}});
const queuedKeys = () => Object.keys(props).filter((k) => k.startsWith('SYNCD_QUEUED_'));
const queuedBefore = queuedKeys().length;
for (const key of queuedKeys()) {  // make the queued retry due now, then let the timer run
  const delivery = JSON.parse(props[key]);
  delivery.notBefore = 0;
  props[key] = JSON.stringify(delivery);
}
ctx.syncdFlushQueue();
process.stdout.write(JSON.stringify({sent, queuedBefore, queuedAfter: queuedKeys().length}));
"""


@pytest.fixture(scope="module")
def run():
    if NODE is None:
        pytest.skip("node is not installed")
    result = subprocess.run(
        [NODE, "-e", HARNESS, str(SCRIPT), SECRET], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_script_payloads_match_the_sandbox_models(run):
    edit_attempt, change, retry = run["sent"]
    assert edit_attempt["status"] == 503 and change["status"] == 204 and retry["status"] == 204
    edit = SheetEditEvent.model_validate_json(retry["body"])
    assert list(json.loads(retry["body"])) == list(SheetEditEvent.model_fields)
    assert edit.sheetName == "Invoices \u2013 Q1"
    assert (edit.range, edit.rowStart, edit.columnEnd, edit.user) == (
        "C3:D3",
        3,
        4,
        "mia@studio.example",
    )
    assert edit.editedAt.endswith("Z")
    changed = SheetChangeEvent.model_validate_json(change["body"])
    assert list(json.loads(change["body"])) == list(SheetChangeEvent.model_fields)
    assert (changed.changeType, changed.user) == ("INSERT_ROW", None)
    assert retry["body"].isascii()  # non-ASCII escaped, so the signed text is the bytes sent


def test_every_delivery_verifies_and_retries_keep_their_id(run):
    now = time.time()
    ids = [verify_standard(d["headers"], d["body"].encode(), SECRET, now=now) for d in run["sent"]]
    assert ids[0] == ids[2] != ids[1]  # the retry is the same event
    for delivery in run["sent"]:  # and the reference implementation agrees
        standardwebhooks.Webhook(SECRET).verify(delivery["body"].encode(), delivery["headers"])
    assert all(i.startswith("msg_") and len(i) == 36 for i in ids)
    assert (run["queuedBefore"], run["queuedAfter"]) == (1, 0)
    tampered = run["sent"][1]["body"].replace("INSERT_ROW", "REMOVE_ROW").encode()
    with pytest.raises(SignatureError):
        verify_standard(run["sent"][1]["headers"], tampered, SECRET, now=now)
