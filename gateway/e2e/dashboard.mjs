// The dashboard end to end in a real browser: Debian's Chromium driven by playwright-core (no
// browser download). Feeds a live `redflag serve` real detections through the API, then signs in,
// checks that the overview charts are drawn from them, opens an alert's evidence, closes a case
// on it as a false positive and sees the rule's precision change; writes a custom rule (a syntax
// error shown where it is, then fixed), backtests it over seeded March history and shadows it on
// live traffic; then, as an admin, publishes it (four eyes), sees it fire on a live detection,
// rolls back, and retrains the AML model with the label; imports a sanctions list, screens a name
// on the Screening page, and resolves a list update's match with a remembered party as a false
// positive. Saves a screenshot of each page.
//
//   node dashboard.mjs <base URL> <analyst> <admin> <password of both> <screenshot directory>
//
// `cargo xtask test` runs it against a fresh server; exits non-zero naming the failed step.

import { createHmac } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const [base, username, admin, password, screenshots] = process.argv.slice(2);
if (!screenshots) {
  console.error('usage: node dashboard.mjs <base URL> <analyst> <admin> <password of both> <screenshot directory>');
  process.exit(2);
}
mkdirSync(screenshots, { recursive: true });

/// Waits until the dashboard has finished drawing the view its URL names (and, when given,
/// until that URL contains `part`).
async function rendered(page, part = '') {
  await page.waitForFunction((wanted) => location.hash.includes(wanted)
    && document.getElementById('view').dataset.rendered === location.hash, part);
}

function check(condition, what) {
  if (!condition) throw new Error(`dashboard: ${what}`);
}

async function call(path, token, body) {
  const response = await fetch(`${base}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json();
  check(response.ok, `${path} answered ${response.status}: ${JSON.stringify(answer)}`);
  return answer;
}

/// Imports `csv` as the next version of the list `demo`, as an admin would over the API.
async function importDemoList(csv) {
  const { access } = await call('/api/token/', undefined, { username: admin, password });
  const form = new FormData();
  form.append('file', new Blob([csv], { type: 'text/csv' }), 'demo.csv');
  const response = await fetch(`${base}/api/screening/lists/demo/versions/?format=csv`, {
    method: 'POST', headers: { Authorization: `Bearer ${access}` }, body: form,
  });
  const answer = await response.json();
  check(response.status === 201, `the list imports: ${response.status} ${JSON.stringify(answer)}`);
  return answer;
}

/// A morning's traffic in all four modules, sent as any client would, timed now so that it falls
/// in the overview's last 24 hours.
async function feed() {
  const { access } = await call('/api/token/', undefined, { username, password });
  for (let i = 0; i < 24; i += 1) {
    await call('/api/aml/detect/', access, {
      transaction_id: `E2E-N${i}`, user_id: 'U-1', amount: 120 + ((i * 97) % 900),
      sender_id: `S-${i % 6}`, receiver_id: `R-${i % 4}`,
    });
  }
  for (const [i, amount] of [9800, 9900, 9700].entries()) {
    await call('/api/aml/detect/', access, {
      transaction_id: `E2E-S${i}`, user_id: 'U-2', amount, sender_id: 'SMURF', receiver_id: 'BANK',
    });
  }
  await call('/api/aml/detect/', access, {
    transaction_id: 'E2E-L1', user_id: 'U-3', amount: 48000, sender_id: 'S-L', receiver_id: 'R-L',
  });
  await call('/api/credit/assess/', access, {
    applicant_id: 'A-1', monthly_income: 4200, employment_length: 24,
  });
  await call('/api/credit/assess/', access, {
    applicant_id: 'A-7', monthly_income: 2500, employment_length: 2, late_payments_12m: 4,
    revolving_balance: 4850, revolving_limit: 5000, credit_history_months: 8,
    recent_inquiries_6m: 5, monthly_debt_payments: 1400, account_types: { revolving: 2 },
  });
  await call('/api/insurance/detect/', access, {
    claim_id: 'CLM-001', policy_id: 'POL-9', claim_amount: 45000, estimated_value: 52000,
    market_value: 32000,
  });
  for (let i = 0; i < 4; i += 1) {
    await call('/api/market/detect/', access, {
      symbol: 'MSFT', price: 425.5 + i, volume: 12000 + 500 * i, trader_id: `TR-${i}`,
    });
  }
  return access;
}

/// Three days of March 2026 in which money received is passed on two hours later: what the
/// custom rule is backtested on.
async function seedHistory(access) {
  for (let day = 1; day <= 3; day += 1) {
    const at = (hour) => `2026-03-0${day}T${String(hour).padStart(2, '0')}:00:00Z`;
    for (let i = 0; i < 5; i += 1) {
      await call('/api/aml/detect/', access, {
        transaction_id: `E2E-H${day}-${i}`, user_id: 'U-H', amount: 60 + 45 * i,
        sender_id: `HS-${i}`, receiver_id: `HR-${i % 2}`, timestamp: at(8 + i),
      });
    }
    await call('/api/aml/detect/', access, {
      transaction_id: `E2E-H${day}-IN`, user_id: 'U-H', amount: 4000,
      sender_id: `VICTIM-${day}`, receiver_id: `MULE-${day}`, timestamp: at(9),
    });
    await call('/api/aml/detect/', access, {
      transaction_id: `E2E-H${day}-OUT`, user_id: 'U-H', amount: 3900,
      sender_id: `MULE-${day}`, receiver_id: `CASHOUT-${day}`, timestamp: at(11),
    });
  }
}

/// Money in and straight out again, now: the second answer.
async function passThrough(access, name) {
  await call('/api/aml/detect/', access, {
    transaction_id: `${name}-IN`, user_id: 'U-L', amount: 5000, sender_id: `${name}-VICTIM`, receiver_id: `${name}-MULE`,
  });
  return call('/api/aml/detect/', access, {
    transaction_id: `${name}-OUT`, user_id: 'U-L', amount: 4900, sender_id: `${name}-MULE`, receiver_id: `${name}-CASHOUT`,
  });
}

const RULE = 'E2E pass-through';

async function main() {
  const token = await feed();
  await seedHistory(token);
  const before = await call('/api/statistics/', token);
  check(before.total_detections >= 33, `the fed detections are counted: ${before.total_detections}`);

  const browser = await chromium.launch({
    executablePath: process.env.REDFLAG_CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  const problems = [];
  let page;
  try {
    page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    // Content-policy refusals and script errors are problems; a 4xx the page expects (the wrong
    // password below) is logged by Chromium too and is not. No answer may be a 5xx.
    page.on('console', (entry) => {
      const expected = entry.text().startsWith('Failed to load resource: the server responded with a status of 4');
      if (entry.type() === 'error' && !expected) problems.push(`console: ${entry.text()}`);
    });
    page.on('response', (response) => {
      if (response.status() >= 500) problems.push(`${response.status()} from ${response.url()}`);
    });
    const shot = (name) => page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });

    // Sign in: a wrong password is refused in the page, the right one opens the overview.
    await page.goto(`${base}/`);
    await page.fill('input[name=username]', username);
    await page.fill('input[name=password]', 'not-the-password');
    await page.click('#sign-in-form button[type=submit]');
    await page.waitForSelector('#sign-in-form .message.error');
    check((await page.textContent('#sign-in-form .message.error')).includes('No active account'),
      'a wrong password is explained');
    await page.fill('input[name=password]', password);
    await page.click('#sign-in-form button[type=submit]');

    // The overview, drawn from the statistics.
    await page.waitForSelector('#total-detections');
    const shown = Number((await page.textContent('#total-detections')).replaceAll(',', ''));
    check(shown >= before.total_detections, `the detections tile shows ${shown}`);
    const lines = await page.$$eval('[data-chart=detections] polyline', (all) => all.map((l) => l.dataset.series));
    check(['aml', 'credit', 'insurance', 'market'].every((m) => lines.includes(m)),
      `a detections line per module: ${lines}`);
    const rateLines = await page.locator('[data-chart=flagged-rate] polyline').count();
    check(rateLines >= 1, 'the flagged rate is drawn for the modules that flagged');
    const bars = await page.$$eval('[data-chart=severity] rect', (all) => all.map((r) => Number(r.dataset.count)));
    check(bars.length === 4 && bars.reduce((a, b) => a + b, 0) > 0, `severity bars: ${bars}`);
    check(await page.locator('[data-chart=top-rules] rect[data-rule=StructuringRule]').count() === 1,
      'StructuringRule is among the top rules');
    check((await page.textContent('#rule-precision')).includes('No case has been closed'),
      'no precision before any case is closed');
    await shot('overview');

    // The queue, filtered to AML's high alerts, and one alert's evidence.
    await page.click('[data-nav=alerts]');
    await page.waitForSelector('#alert-filters');
    await page.selectOption('#alert-filters select[name=module]', 'aml');
    await page.fill('#alert-filters input[name=rule]', 'StructuringRule');
    await page.click('#alert-filters button[type=submit]');
    await rendered(page, 'rule=StructuringRule');
    await page.waitForSelector('#alerts tbody tr');
    check(new URLSearchParams(await page.evaluate(() => location.hash.split('?')[1])).get('status') === 'new',
      'the queue opens on the alerts in no case yet, and filtering keeps that');
    const rules = await page.$$eval('#alerts tbody tr td:nth-child(5)', (all) => all.map((c) => c.textContent));
    check(rules.length >= 1 && rules.every((rule) => rule === 'StructuringRule'), `filtered queue: ${rules}`);
    await page.selectOption('#alert-filters select[name=module]', '');
    await page.fill('#alert-filters input[name=rule]', '');
    await page.click('#alert-filters button[type=submit]');
    await rendered(page);
    await page.waitForSelector('#alerts tbody tr');
    await shot('alerts');

    await page.fill('#alert-filters input[name=rule]', 'StructuringRule');
    await page.click('#alert-filters button[type=submit]');
    await rendered(page, 'rule=StructuringRule');
    await page.click('#alerts tbody tr:first-child a.open-decision');
    await page.waitForSelector('#evidence .alert-card');
    const evidence = await page.textContent('#evidence');
    check(evidence.includes('StructuringRule') && evidence.includes('3 transactions totaling $29400.00'),
      `the evidence names the rule and its figures: ${evidence.slice(0, 300)}`);
    check((await page.textContent('.decision .facts')).includes('SMURF'), 'the decision names the sender');
    check(await page.locator('#evidence table.figures tr').count() > 2, 'the alert shows its figures');
    check(await page.locator('#history tbody tr').count() === 3, 'the sender\'s three transfers');
    await shot('decision');

    // A case on the decision's alerts, closed as a false positive.
    await page.click('#open-case-from-decision');
    await page.waitForSelector('#case-form');
    await page.selectOption('#case-form select[name=status]', 'closed');
    await page.selectOption('#case-form select[name=resolution]', 'false_positive');
    await page.fill('#case-form textarea[name=note]', 'Payroll split across three transfers; known customer.');
    await page.click('#case-form button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#case-resolution')?.textContent.includes('false positive'));
    const timeline = await page.textContent('#timeline');
    check(timeline.includes('opened') && timeline.includes('resolved') && timeline.includes('noted'),
      `the timeline: ${timeline}`);
    await shot('case');

    // Worked alerts leave the queue of new ones.
    await page.click('[data-nav=alerts]');
    await page.waitForSelector('#alert-filters');
    await page.fill('#alert-filters input[name=rule]', 'StructuringRule');
    await page.click('#alert-filters button[type=submit]');
    await rendered(page, 'rule=StructuringRule');
    await page.waitForSelector('#alert-count');
    check((await page.textContent('#alert-count')) === '0 alerts', 'no new structuring alert is left');

    // The statistics now count the structuring alerts as false positives.
    await page.click('[data-nav=overview]');
    await page.waitForSelector('#rule-precision tr[data-rule=StructuringRule]');
    const falsePositives = Number(await page.textContent('#rule-precision tr[data-rule=StructuringRule] [data-field=false_positive]'));
    check(falsePositives >= 1, `StructuringRule's false positives: ${falsePositives}`);
    await shot('overview-after-review');

    // The models in use, one per module (retraining is for admins: no button here).
    await page.click('[data-nav=models]');
    await page.waitForSelector('#models tbody tr');
    check(await page.locator('#models tbody tr').count() === 4, 'a model per module');
    check(await page.locator('#models button').count() === 0, 'an analyst cannot retrain');
    await page.waitForSelector('#peer-groups [data-field=learned]');
    check((await page.textContent('#peer-groups [data-field=learned]')).startsWith('Not learned yet'), 'no peer group learned at first');
    check(await page.locator('#learn-peer-groups').count() === 0, 'an analyst cannot learn the peer groups');
    // The anomaly alerts: one row per anomaly model; the worker found too few decisions at start.
    await page.waitForSelector('#anomaly-alerts tbody tr');
    check(await page.locator('#anomaly-alerts tbody tr').count() === 3, 'an anomaly alert per anomaly model');
    check((await page.textContent('#anomaly-alerts tr[data-module=insurance] [data-field=status]')) === 'Warming up', 'insurance warms up');
    check(await page.locator('#calibrate-anomaly').count() === 0, 'an analyst cannot calibrate');

    // The analyst writes a custom rule in a draft of the AML rule set in force.
    await page.click('[data-nav=rules]');
    await page.waitForSelector('#in-force [data-field=version]');
    check((await page.textContent('#in-force [data-field=version]')) === '1', 'version 1 is in force');
    check(await page.locator('#versions button.restore').count() === 0, 'an analyst cannot restore');
    await page.click('#new-draft');
    await page.waitForSelector('#draft-form');
    const draftHash = await page.evaluate(() => location.hash);
    check(/^#\/rules\/aml\/drafts\/\d+$/.test(draftHash), `the new draft's page: ${draftHash}`);
    check(await page.locator('#features tr[data-feature=sender_received_24h]').count() === 1, 'the feature list');
    await page.click('#add-rule');
    const editor = '#draft-rules .rule-editor:last-of-type';
    await page.fill(`${editor} input[name=name]`, RULE);
    await page.selectOption(`${editor} select[name=severity]`, 'critical');
    await page.fill(`${editor} input[name=confidence]`, '0.9');
    await page.fill(`${editor} textarea[name=when]`, 'sender_received_24h >= 0.8 * event.amount &&');
    await page.fill(`${editor} input[name=reason]`, '{{event.amount}} sent on after receiving {{sender_received_24h}} in 24h');
    await page.click('#save-draft');
    await page.waitForSelector(`${editor} [data-errors=when] li`);
    const mistake = await page.textContent(`${editor} [data-errors=when]`);
    check(/line 1, column \d+/.test(mistake), `the expression error says where: ${mistake}`);
    await shot('rules-draft-error');
    await page.fill(`${editor} textarea[name=when]`, 'sender_received_24h >= 0.8 * event.amount && event.amount >= 1000.0');
    await page.fill('#draft-form input[name=ruleset_description]', 'Pass-through to a new payee');
    await page.click('#save-draft');
    await page.waitForFunction((name) => [...document.querySelectorAll('#draft-rules legend')].some((l) => l.textContent === name), RULE);
    check(await page.inputValue('#draft-form input[name=ruleset_description]') === 'Pass-through to a new payee', 'the description is kept');

    // Backtested over the seeded March history: the rule catches each day's pass-through.
    await page.fill('#backtest-form input[name=since]', '2026-03-01T00:00');
    await page.fill('#backtest-form input[name=until]', '2026-03-04T00:00');
    await page.click('#backtest-form button[type=submit]');
    const backtested = `#backtest-report tr[data-rule="${RULE}"]`;
    await page.waitForSelector(backtested);
    const counts = await page.$$eval(`${backtested} svg`, (all) => all.map((bar) => Number(bar.dataset.count)));
    check(counts.join() === '0,3', `alerts before and after: ${counts}`);
    const added = await page.$$eval('#backtest-report table.changed tbody tr td:nth-child(4)', (all) => all.map((cell) => cell.textContent));
    check(added.filter((rules) => rules.includes(RULE)).length === 3, `the three pass-throughs listed as changed: ${added}`);

    // Shadowed on live traffic: the answer does not change, the report counts what it would do.
    await page.click('#shadow-toggle');
    await page.waitForFunction(() => document.querySelector('[data-field=shadow-status]')?.textContent.startsWith('Shadowing since'));
    const shadowed = await passThrough(token, 'E2E-SH');
    check(!shadowed.alerts.some((alert) => alert.rule === RULE), 'a shadowed draft never answers');
    await page.click('#shadow-refresh');
    await page.waitForSelector(`#shadow-report tr[data-rule="${RULE}"] [data-field=after] svg[data-count="1"]`);
    await page.click('#shadow-toggle');
    await page.waitForFunction(() => document.querySelector('[data-field=shadow-status]')?.textContent.startsWith('Shadowed '));
    check((await page.textContent('#publish-note')).includes('An admin other than the author'), 'the analyst cannot publish');
    await shot('rules-draft');

    // An admin, not the author, publishes it: version 2 is in force and fires on live traffic.
    await page.click('#sign-out');
    await page.fill('input[name=username]', admin);
    await page.fill('input[name=password]', password);
    await page.click('#sign-in-form button[type=submit]');
    await page.waitForSelector('#total-detections');
    await page.evaluate((hash) => { location.hash = hash; }, draftHash);
    await page.waitForSelector('#publish');
    await page.click('#publish');
    await page.waitForFunction(() => document.querySelector('#in-force [data-field=version]')?.textContent === '2');
    check(await page.locator(`#in-force-rules tr[data-rule="${RULE}"]`).count() === 1, 'the rule is in force');
    check((await page.textContent('#versions tr[data-version="2"]')).includes('Pass-through to a new payee'), 'the history describes version 2');
    const fired = await passThrough(token, 'E2E-LIVE');
    check(fired.ruleset_version === 2 && fired.alerts.some((alert) => alert.rule === RULE),
      `the published rule fires: ${JSON.stringify(fired.alerts)}`);
    await page.evaluate((hash) => { location.hash = hash; }, `#/decisions/aml/${fired.id}`);
    await page.waitForSelector('#evidence .alert-card');
    const firedEvidence = await page.textContent('#evidence');
    check(firedEvidence.includes('4900 sent on after receiving 5000 in 24h'), `the reason with its figures: ${firedEvidence.slice(0, 400)}`);
    check((await page.textContent('.decision .facts')).includes('version 2'), 'the decision names the rule set');
    // Rolled back: version 1 published again as version 3.
    await page.click('[data-nav=rules]');
    await page.waitForSelector('#versions button.restore[data-version="1"]');
    await page.click('#versions button.restore[data-version="1"]');
    await page.waitForFunction(() => document.querySelector('#in-force [data-field=version]')?.textContent === '3');
    check(await page.locator('#in-force-rules tr').count() === 0, 'the rollback has no custom rule');
    await shot('rules');

    // The admin retrains the AML model with the labels: the report compares the previous and the
    // new model on them, and the table shows the new model in use.
    await page.click('[data-nav=models]');
    await page.waitForSelector('#models tbody tr[data-module=aml] button');
    const trainedBefore = await page.textContent('#models tr[data-module=aml] [data-field=trained_at]');
    await page.click('#models tr[data-module=aml] button');
    await page.waitForSelector('#training-report table');
    const report = await page.textContent('#training-report');
    check(/Labels: 0 confirmed fraud, 1 false positive/.test(report), `the labels counted: ${report}`);
    check(report.includes('Previous model') && report.includes('New model'), `both models measured: ${report}`);
    await page.waitForFunction((before) => document.querySelector('#models tr[data-module=aml] [data-field=trained_at]')?.textContent !== before, trainedBefore);
    // The admin learns the peer groups now: the page says when, from which transfers.
    await page.click('#learn-peer-groups');
    await page.waitForFunction(() => document.querySelector('#peer-groups [data-field=learned]')?.textContent.startsWith('Learned '));
    const learned = await page.textContent('#peer-groups');
    check(/the 95% quantile of what each segment's established senders do/.test(learned), `peer groups learned: ${learned}`);
    // The admin calibrates the anomaly alerts now: the retrained AML model has its threshold and
    // each feature's drift.
    await page.click('#calibrate-anomaly');
    await page.waitForFunction(() => document.querySelector('#anomaly-alerts tr[data-module=aml] [data-field=status]')?.textContent === 'Calibrated');
    const threshold = await page.textContent('#anomaly-alerts tr[data-module=aml] [data-field=threshold]');
    check(/^0\.\d{4}$/.test(threshold), `a calibrated threshold: ${threshold}`);
    const measured = await page.textContent('#anomaly-alerts tr[data-module=aml]');
    check(/\d+ events \(20 needed\)/.test(measured), `what it was measured on: ${measured}`);
    // A few dozen events say nothing about drift (at least 50 are needed).
    check((await page.textContent('#anomaly-alerts tr[data-module=insurance] [data-field=drift]')) === '—', 'no drift on a handful of events');
    await shot('models');

    // Sanctions screening: the demo list imported, a name screened with the parts of its score;
    // a transfer naming a listed party flagged inline; a party remembered from a transfer matched
    // by the list's next version, and that match resolved as a false positive.
    const demoList = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../../config/sanctions-demo.csv'), 'utf8');
    await importDemoList(demoList);
    await page.click('[data-nav=screening]');
    await page.waitForSelector('#screening-form');
    check((await page.textContent('#screening-lists tr[data-list=demo]')).includes('1 (in use)'), 'the list and its version');
    await page.fill('#screening-form input[name=name]', 'Ivan Petrovich Dragomirov');
    await page.selectOption('#screening-form select[name=entity_type]', 'individual');
    await page.fill('#screening-form input[name=date_of_birth]', '1961');
    await page.click('#screening-form button[type=submit]');
    await page.waitForSelector('#screening-results[data-screened]');
    const match = await page.textContent('#screening-matches tr[data-entry=RF-001]');
    check(match.includes('DRAGOMIROV, Ivan Petrovich') && match.includes('agrees'), `the match with its parts: ${match}`);
    await shot('screening');
    const named = await call('/api/aml/detect/', token, {
      transaction_id: 'E2E-SANCTIONED', user_id: 'U-9', amount: 700, sender_id: 'S-N1', receiver_id: 'R-N1',
      receiver_name: 'Carla Beatriz Moreno-Valdez',
    });
    check(named.flagged && named.alerts.some((alert) => alert.rule === 'SanctionsMatchRule'), `screened inline: ${JSON.stringify(named.alerts)}`);
    await call('/api/aml/detect/', token, {
      transaction_id: 'E2E-OLGA', user_id: 'U-9', amount: 80, sender_id: 'S-N2', receiver_id: 'R-N2',
      receiver_name: 'Olga Smirnova',
    });
    const update = await importDemoList(`${demoList}RF-009,"SMIRNOVA, Olga",individual,,,,DEMO-FINANCE\n`);
    check(update.version === 2 && update.added === 1 && update.alerts === 1, `the update raised one alert: ${JSON.stringify(update)}`);
    await page.evaluate(() => { location.hash = '#/alerts?module=screening'; });
    await rendered(page, 'module=screening');
    await page.click('#alerts tbody tr:first-child a.open-decision');
    await page.waitForSelector('.sanctions-match[data-entry=RF-009] button.resolve-match');
    await page.fill('.sanctions-match[data-entry=RF-009] input[name=note]', 'Another Olga Smirnova: KYC date of birth 1990');
    await page.click('.sanctions-match[data-entry=RF-009] button.resolve-match');
    await page.waitForSelector('.sanctions-match[data-entry=RF-009] .resolved');
    const resolvedText = await page.textContent('.sanctions-match[data-entry=RF-009] .resolved');
    check(resolvedText.includes(`Resolved as a false positive by ${admin}`) && resolvedText.includes('KYC date of birth 1990'),
      `the resolution shows on the alert: ${resolvedText}`);
    await shot('screening-alert');

    // Webhooks: the admin subscribes a receiver (this script's own server) to flagged decisions;
    // a flagged transfer reaches it signed with the secret shown once, and the delivery log on
    // the page says it was delivered.
    const hooks = [];
    const receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => { body += chunk; });
      request.on('end', () => {
        hooks.push({ headers: request.headers, body });
        response.writeHead(204).end();
      });
    });
    await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      await page.click('[data-nav=webhooks]');
      await page.waitForSelector('#webhook-form');
      await page.fill('#webhook-form input[name=url]', `http://127.0.0.1:${receiver.address().port}/hook`);
      await page.fill('#webhook-form input[name=description]', 'e2e receiver');
      await page.click('#webhook-form button[type=submit]');
      await page.waitForSelector('#webhook-created[data-secret]');
      const secret = await page.getAttribute('#webhook-created', 'data-secret');
      check(secret.startsWith('whsec_'), `a signing secret: ${secret}`);
      const hooked = await call('/api/aml/detect/', token, {
        transaction_id: 'E2E-HOOK', user_id: 'U-9', amount: 640, sender_id: 'S-N3', receiver_id: 'R-N3',
        receiver_name: 'Carla Beatriz Moreno-Valdez',
      });
      check(hooked.flagged, 'a flagged transfer to notify');
      for (let waited = 0; hooks.length === 0 && waited < 15000; waited += 100) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      check(hooks.length === 1, `one delivery reached the receiver: ${hooks.length}`);
      const [hook] = hooks;
      const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
      const expected = createHmac('sha256', key)
        .update(`${hook.headers['webhook-id']}.${hook.headers['webhook-timestamp']}.${hook.body}`)
        .digest('base64');
      check(hook.headers['webhook-signature'] === `v1,${expected}`, `signed with the secret: ${hook.headers['webhook-signature']}`);
      const message = JSON.parse(hook.body);
      check(message.type === 'decision.flagged' && message.data.decision.transaction_id === 'E2E-HOOK',
        `the flagged decision: ${hook.body.slice(0, 200)}`);
      await page.click('.subscription .show-log');
      await page.waitForSelector('.deliveries tr[data-status=delivered]');
      check((await page.textContent('.deliveries')).includes(hook.headers['webhook-id']), 'the log names the message');
      await shot('webhooks');
    } finally {
      receiver.close();
    }

    // An expired access token is refreshed without the user noticing; a session whose refresh
    // token no longer holds returns to the sign-in form, saying so.
    await page.evaluate(() => sessionStorage.setItem('redflag.access', 'expired.access.token'));
    await page.click('[data-nav=alerts]');
    await page.waitForSelector('#alerts tbody tr');
    await page.evaluate(() => {
      sessionStorage.setItem('redflag.access', 'expired.access.token');
      sessionStorage.setItem('redflag.refresh', 'revoked.refresh.token');
    });
    await page.click('[data-nav=cases]');
    await page.waitForSelector('#sign-in-form .message.info');
    check((await page.textContent('#sign-in-form')).includes('Your session has ended; sign in again.'),
      'a dead session says so at the sign-in form');
    check(await page.locator('#nav').isHidden(), 'the navigation goes with the session');
    check(problems.length === 0, `the page ran without errors: ${problems.join('; ')}`);
  } catch (error) {
    // What the page showed when it went wrong, and what it logged.
    if (page) {
      await page.screenshot({ path: join(screenshots, 'failure.png'), fullPage: true }).catch(() => {});
      console.error(`at ${page.url()}: ${(await page.textContent('body').catch(() => '')).slice(0, 600)}`);
    }
    if (problems.length) console.error(`page problems: ${problems.join('; ')}`);
    throw error;
  } finally {
    await browser.close();
  }
}

main().then(
  () => console.log(`dashboard: passed (screenshots in ${screenshots})`),
  (error) => {
    console.error(error.message || error);
    process.exit(1);
  },
);
