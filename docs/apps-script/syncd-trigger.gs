/**
 * syncd trigger for Google Sheets (Apps Script, V8 runtime).
 *
 * Tells syncd, with a signed webhook, when a person edits this spreadsheet (installable
 * onEdit) or changes its structure (installable onChange: rows inserted, removed, sorted...).
 * Sheets API writes - syncd's own - never fire triggers, so syncd never hears its own echo.
 * Install and configure it as README.md (next to this file) explains.
 *
 * Payloads (JSON; keep identical to sandbox/syncd_sandbox/sheets/trigger.py, the sandbox's copy):
 *   {"type":"sheet.edit","spreadsheetId":"...","sheetId":0,"sheetName":"Invoices",
 *    "range":"C5:D5","rowStart":5,"rowEnd":5,"columnStart":3,"columnEnd":4,
 *    "user":"someone@example.com"|null,"editedAt":"2025-01-31T14:05:00.000Z"}
 *   {"type":"sheet.change","spreadsheetId":"...","sheetId":0,"sheetName":"Invoices",
 *    "changeType":"INSERT_ROW"|"REMOVE_ROW"|"INSERT_COLUMN"|"REMOVE_COLUMN"|"INSERT_GRID"|
 *                 "REMOVE_GRID"|"FORMAT"|"OTHER",
 *    "user":"someone@example.com"|null,"editedAt":"2025-01-31T14:05:00.000Z"}
 * Rows and columns are 1-based and inclusive; `range` has no sheet name. `user` is null when
 * Google withholds the editor's email (e.g. an editor from another domain). A change event
 * carries no range: syncd re-reads the sheet and matches rows by key, never by position.
 *
 * Signing (Standard Webhooks v1, as syncd/signatures.py verifies it):
 *   webhook-id:        msg_<32 hex>, the same for every retry of one event (dedupe key)
 *   webhook-timestamp: Unix seconds of this attempt (re-signed on retry: syncd refuses
 *                      timestamps more than 5 minutes off)
 *   webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">, keyed with the
 *                      base64-decoded bytes of the secret after its "whsec_" prefix
 *
 * Failed sends (network errors, 408, 425, 429, 5xx) wait in Script Properties and are retried
 * with growing delays by the next trigger run and by a timer every 5 minutes. syncd also polls
 * the sheet, so an event lost for good (queue full, too many attempts) delays a sync but
 * loses no data.
 *
 * Script Properties (Project Settings > Script Properties):
 *   SYNCD_WEBHOOK_URL     e.g. https://syncd.example.com/webhooks/sheets
 *   SYNCD_WEBHOOK_SECRET  e.g. whsec_... (the secret configured in syncd)
 */

var SYNCD_QUEUE_PREFIX = 'SYNCD_QUEUED_';
var SYNCD_MAX_QUEUED = 200; // Script Properties hold 500 kB in all, 9 kB per value
var SYNCD_MAX_ATTEMPTS = 12; // with the delays below: about two days of retrying
var SYNCD_MAX_DELAY_MINUTES = 240;
var SYNCD_FLUSH_BATCH = 20; // per run, so one trigger run stays short
var SYNCD_RETRY_STATUSES = [408, 425, 429, 500, 502, 503, 504];
var SYNCD_HANDLERS = ['syncdOnEdit', 'syncdOnChange', 'syncdFlushQueue'];

/** Run once from the editor: checks the settings and (re)creates syncd's triggers. */
function syncdInstall() {
  syncdConfig_();
  syncdUninstall();
  var spreadsheet = SpreadsheetApp.getActive();
  ScriptApp.newTrigger('syncdOnEdit').forSpreadsheet(spreadsheet).onEdit().create();
  ScriptApp.newTrigger('syncdOnChange').forSpreadsheet(spreadsheet).onChange().create();
  ScriptApp.newTrigger('syncdFlushQueue').timeBased().everyMinutes(5).create();
  console.log('syncd triggers installed for ' + spreadsheet.getName());
}

/** Removes syncd's triggers (queued events stay until the next install flushes them). */
function syncdUninstall() {
  ScriptApp.getProjectTriggers().forEach(function (trigger) {
    if (SYNCD_HANDLERS.indexOf(trigger.getHandlerFunction()) >= 0) {
      ScriptApp.deleteTrigger(trigger);
    }
  });
}

/** Installable onEdit: a person changed values in a block of cells. */
function syncdOnEdit(e) {
  var range = e.range;
  var sheet = range.getSheet();
  syncdSend_({
    type: 'sheet.edit',
    spreadsheetId: e.source.getId(),
    sheetId: sheet.getSheetId(),
    sheetName: sheet.getName(),
    range: range.getA1Notation(),
    rowStart: range.getRow(),
    rowEnd: range.getLastRow(),
    columnStart: range.getColumn(),
    columnEnd: range.getLastColumn(),
    user: syncdUser_(e),
    editedAt: new Date().toISOString()
  });
}

/** Installable onChange: the structure changed (value edits come through onEdit instead). */
function syncdOnChange(e) {
  if (e.changeType === 'EDIT') {
    return; // onEdit reports the same edit, with its range
  }
  var sheet = e.source.getActiveSheet();
  syncdSend_({
    type: 'sheet.change',
    spreadsheetId: e.source.getId(),
    sheetId: sheet.getSheetId(),
    sheetName: sheet.getName(),
    changeType: e.changeType,
    user: syncdUser_(e),
    editedAt: new Date().toISOString()
  });
}

/** Timer trigger (and called after each send): retries queued deliveries that are due. */
function syncdFlushQueue() {
  var lock = LockService.getScriptLock();
  if (!lock.tryLock(1000)) {
    return; // another run is flushing
  }
  try {
    var properties = PropertiesService.getScriptProperties();
    var now = Date.now();
    var due = properties.getKeys()
      .filter(function (key) { return key.indexOf(SYNCD_QUEUE_PREFIX) === 0; })
      .map(function (key) { return JSON.parse(properties.getProperty(key)); })
      .filter(function (delivery) { return delivery.notBefore <= now; })
      .sort(function (a, b) { return a.queuedAt - b.queuedAt; })
      .slice(0, SYNCD_FLUSH_BATCH);
    due.forEach(function (delivery) {
      var key = SYNCD_QUEUE_PREFIX + delivery.id;
      if (syncdTryDeliver_(delivery)) {
        properties.deleteProperty(key);
      } else if (delivery.attempts >= SYNCD_MAX_ATTEMPTS) {
        console.error('syncd: giving up on ' + delivery.id + ' after ' + delivery.attempts + ' attempts');
        properties.deleteProperty(key);
      } else {
        delivery.notBefore = now + syncdDelayMinutes_(delivery.attempts) * 60000;
        properties.setProperty(key, JSON.stringify(delivery));
      }
    });
  } finally {
    lock.releaseLock();
  }
}

function syncdSend_(payload) {
  var delivery = {
    id: 'msg_' + Utilities.getUuid().replace(/-/g, ''),
    body: syncdJson_(payload),
    attempts: 0,
    queuedAt: Date.now(),
    notBefore: 0
  };
  if (!syncdTryDeliver_(delivery)) {
    syncdEnqueue_(delivery);
  }
  syncdFlushQueue();
}

/** One attempt; true when the delivery is finished (accepted, or refused for good). */
function syncdTryDeliver_(delivery) {
  var config = syncdConfig_();
  var timestamp = String(Math.floor(Date.now() / 1000));
  delivery.attempts += 1;
  var response;
  try {
    response = UrlFetchApp.fetch(config.url, {
      method: 'post',
      contentType: 'application/json; charset=utf-8',
      payload: delivery.body,
      headers: {
        'webhook-id': delivery.id,
        'webhook-timestamp': timestamp,
        'webhook-signature': syncdSign_(delivery.id, timestamp, delivery.body, config.secret)
      },
      muteHttpExceptions: true,
      followRedirects: false
    });
  } catch (err) {
    console.warn('syncd: sending ' + delivery.id + ' failed: ' + err);
    return false;
  }
  var status = response.getResponseCode();
  if (status >= 200 && status < 300) {
    return true;
  }
  if (SYNCD_RETRY_STATUSES.indexOf(status) >= 0) {
    return false;
  }
  // 3xx, 400, 401, 410...: retrying the same bytes cannot help. syncd's polling catches up.
  console.error('syncd refused ' + delivery.id + ' with HTTP ' + status + ': ' + response.getContentText());
  return true;
}

function syncdEnqueue_(delivery) {
  var properties = PropertiesService.getScriptProperties();
  var queued = properties.getKeys().filter(function (key) {
    return key.indexOf(SYNCD_QUEUE_PREFIX) === 0;
  }).length;
  if (queued >= SYNCD_MAX_QUEUED) {
    console.error('syncd: queue full, dropping ' + delivery.id + ' (syncd polling will catch up)');
    return;
  }
  delivery.notBefore = Date.now() + syncdDelayMinutes_(delivery.attempts) * 60000;
  properties.setProperty(SYNCD_QUEUE_PREFIX + delivery.id, JSON.stringify(delivery));
}

function syncdDelayMinutes_(attempts) {
  return Math.min(Math.pow(2, attempts - 1), SYNCD_MAX_DELAY_MINUTES); // 1, 2, 4 ... 240
}

function syncdSign_(id, timestamp, body, secret) {
  // Standard Webhooks: the key is the base64-decoded part of the secret after "whsec_".
  var key = Utilities.base64Decode(secret.indexOf('whsec_') === 0 ? secret.substring(6) : secret);
  var signed = Utilities.newBlob(id + '.' + timestamp + '.' + body).getBytes(); // UTF-8
  var mac = Utilities.computeHmacSha256Signature(signed, key);
  return 'v1,' + Utilities.base64Encode(mac);
}

/** JSON with every non-ASCII character escaped: the signed text and the bytes sent agree. */
function syncdJson_(payload) {
  return JSON.stringify(payload).replace(/[\u007f-\uffff]/g, function (c) {
    return '\\u' + ('0000' + c.charCodeAt(0).toString(16)).slice(-4);
  });
}

function syncdUser_(e) {
  var user = e && e.user;
  var email = '';
  if (user) {
    email = typeof user.getEmail === 'function' ? user.getEmail() : (user.email || '');
  }
  return email ? email : null;
}

function syncdConfig_() {
  var properties = PropertiesService.getScriptProperties();
  var url = properties.getProperty('SYNCD_WEBHOOK_URL');
  var secret = properties.getProperty('SYNCD_WEBHOOK_SECRET');
  if (!url || !secret) {
    throw new Error('Set SYNCD_WEBHOOK_URL and SYNCD_WEBHOOK_SECRET in Project Settings > Script Properties');
  }
  if (url.indexOf('https://') !== 0) {
    throw new Error('SYNCD_WEBHOOK_URL must be an https:// URL');
  }
  return { url: url, secret: secret };
}
