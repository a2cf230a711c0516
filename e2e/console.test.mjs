// Browser tests of the staff console and the owners' chat page, run by
// scripts/e2e against a real `huiyin serve` on a throw-away database.
// Headless Chromium is Debian's, driven by playwright-core.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const base = process.env.E2E_BASE_URL;
const out = process.env.E2E_OUT || '.cache/e2e/artifacts';
const admin = { user: process.env.E2E_ADMIN, password: process.env.E2E_ADMIN_PASSWORD };
const agent = { user: process.env.E2E_AGENT, password: process.env.E2E_AGENT_PASSWORD };
if (!base || !admin.user || !agent.user) throw new Error('run through scripts/e2e, which starts the server');
mkdirSync(out, { recursive: true });

const XSS = '<img src=x onerror="window.__xss=1">楼道灯坏了<script>window.__xss=2</script>';

let browser;
before(async () => {
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
});
after(async () => { await browser?.close(); });

async function newPage(viewport = { width: 1366, height: 900 }) {
  const context = await browser.newContext({ viewport, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) problems.push(`console: ${m.text()}`); });
  page.on('dialog', (d) => { problems.push(`dialog: ${d.message()}`); d.dismiss(); });
  page.problems = problems;
  return page;
}

async function shot(page, name) {
  await page.screenshot({ path: join(out, `${name}.png`), fullPage: true });
}

async function login(page, who) {
  await page.goto(`${base}/console/#/login`);
  await page.getByLabel('用户名').fill(who.user);
  await page.getByLabel('密码').fill(who.password);
  await page.getByLabel('密码').press('Enter');
  await page.getByRole('heading', { name: '工单队列' }).waitFor();
}

// unlabelled lists the form controls on the page without an accessible
// name: no <label>, aria-label or aria-labelledby.
function unlabelled(page) {
  return page.evaluate(() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
    .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
    .map((el) => el.outerHTML.slice(0, 80)));
}

async function toast(page, text) {
  try {
    await page.locator('#toast div', { hasText: text }).first().waitFor({ timeout: 15000 });
  } catch (e) {
    await shot(page, `failed-${text}`);
    throw new Error(`no "${text}"; the page said: ${await page.locator('#toast').textContent()}`);
  }
}

// openTicket goes to a ticket's page, reloading until its draft is ready
// when wantDraft (drafts are made by a background job).
async function openTicket(page, ref, wantDraft) {
  for (let i = 0; i < 60; i++) {
    await page.goto(`${base}/console/#/ticket/${ref}`);
    await page.getByRole('heading', { name: new RegExp(`工单 ${ref}`) }).waitFor();
    if (!wantDraft || await page.locator('#draft-text').count()) return;
    await page.waitForTimeout(500);
  }
  throw new Error(`no draft for ${ref} after 30 s`);
}

describe('staff console', () => {
  let page;
  let ref;
  let xssRef;
  before(async () => { page = await newPage(); });
  after(async () => { await page.context().close(); });

  test('login refuses a wrong password with a clear message and is usable by keyboard', async () => {
    await page.goto(`${base}/console/`);
    await page.getByLabel('用户名').waitFor();
    assert.deepEqual(await unlabelled(page), []);
    // The form takes focus; the rest is typed and tabbed.
    assert.equal(await page.evaluate(() => document.activeElement.id), 'username');
    await page.keyboard.type(admin.user);
    await page.keyboard.press('Tab');
    await page.keyboard.type('not-the-password');
    await page.keyboard.press('Enter');
    await page.getByRole('alert').filter({ hasText: '用户名或密码' }).waitFor();
    await shot(page, '01-login-refused');
    await login(page, admin);
    await shot(page, '02-queue-empty');
  });

  test('a phone-desk message is triaged into a ticket with its deadline', async () => {
    await page.getByRole('link', { name: '录入来电' }).click();
    await page.getByLabel('来电号码').fill('13812345678');
    await page.getByLabel('位置（选填）').fill('3栋2单元1502');
    await page.getByLabel('业主反映的内容').fill('厨房水管爆了，水一直往外冒，已经流到楼下了，快派人来');
    assert.deepEqual(await unlabelled(page), []);
    await page.getByRole('button', { name: '分派工单' }).click();
    const ack = page.locator('.ack');
    await ack.waitFor();
    const text = await ack.textContent();
    ref = /工单号 (HY\d{8}-\d{6})/.exec(text)?.[1];
    assert.ok(ref, `acknowledgement without a ticket reference: ${text}`);
    assert.match(text, /工程部/);
    await shot(page, '03-intake');

    await page.getByLabel('来电号码').fill('13900001111');
    await page.getByLabel('业主反映的内容').fill(XSS);
    await page.getByRole('button', { name: '分派工单' }).click();
    await page.locator('.ack').filter({ hasNotText: ref }).waitFor();
    xssRef = /工单号 (HY\d{8}-\d{6})/.exec(await page.locator('.ack').textContent())?.[1];
    assert.ok(xssRef);
  });

  test('the queue lists the ticket by deadline with its urgency, and filters', async () => {
    await page.getByRole('link', { name: '工单队列' }).click();
    const row = page.locator(`tr[data-ref="${ref}"]`);
    await row.waitFor();
    assert.match(await row.textContent(), /工程维修/);
    assert.match(await row.textContent(), /剩余|已超时/);
    await page.getByLabel('类别').selectOption('fees');
    await page.getByText('没有符合条件的工单').waitFor();
    await page.getByLabel('类别').selectOption('');
    await row.waitFor();
    assert.deepEqual(await unlabelled(page), []);
    await shot(page, '04-queue');
  });

  test("an owner's markup is shown as text, never run", async () => {
    await openTicket(page, xssRef, false);
    const msg = page.locator('.msg').first();
    assert.equal(await msg.textContent(), XSS);
    // The console has no images of its own: any <img> came from markup.
    assert.equal(await page.locator('img, #view script').count(), 0);
    await page.goto(`${base}/console/#/queue`);
    await page.locator(`tr[data-ref="${xssRef}"]`).waitFor();
    assert.equal(await page.locator('img, #view script').count(), 0);
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    await shot(page, '05-xss-as-text');
  });

  test('labels are corrected, the draft is edited and approved with its sources shown', async () => {
    await openTicket(page, ref, true);
    assert.ok(await page.locator('.cites li').count() > 0 || await page.getByText('本草稿按话术生成').count() > 0);
    assert.deepEqual(await unlabelled(page), []);
    await shot(page, '06-ticket-draft');

    const urgency = page.getByLabel(/^紧急程度/);
    await urgency.selectOption(await urgency.inputValue() === 'emergency' ? 'high' : 'emergency');
    await page.getByRole('button', { name: '保存分类' }).click();
    await toast(page, '分类已修正');
    await page.locator('.history', { hasText: '人工修正分类' }).waitFor();

    await openTicket(page, ref, true); // the correction asks for no new draft; the pending one stays
    const draft = page.locator('#draft-text');
    const edited = `${await draft.inputValue()}\n维修师傅已出发，预计20分钟到达。`;
    await draft.fill(edited);
    await page.getByRole('button', { name: '修改后发送' }).click();
    await toast(page, '回复已批准发送');
    await page.locator('.msg', { hasText: '维修师傅已出发' }).waitFor();
    await shot(page, '07-approved');
  });

  test('the ticket is assigned, worked, resolved, followed up and closed', async () => {
    await page.getByLabel('派给（员工用户名）').fill(agent.user);
    await page.getByRole('button', { name: '派单', exact: true }).click();
    await toast(page, '已派单');
    await page.getByRole('button', { name: '改为处理中' }).click();
    await toast(page, '已改为处理中');
    await page.getByRole('button', { name: '改为已解决' }).click();
    await toast(page, '已改为已解决');
    await page.getByLabel(/^满意度/).selectOption('5');
    await page.getByLabel('意见', { exact: true }).fill('师傅很快就来了，谢谢');
    await page.getByRole('button', { name: '记录回访' }).click();
    await toast(page, '回访已记录');
    await page.getByRole('button', { name: '改为已关闭' }).click();
    await toast(page, '已改为已关闭');
    await page.getByRole('heading', { name: /已关闭/ }).waitFor();
    await shot(page, '08-closed');
  });

  test('the knowledge page searches as the chatbot, edits an FAQ entry, takes an upload and promotes a reply', async () => {
    await page.getByRole('link', { name: '知识库' }).click();
    await page.getByLabel('像业主那样提问').fill('物业费可以用微信交吗');
    await page.getByRole('button', { name: '搜索' }).click();
    await page.getByRole('heading', { name: /检索到的段落/ }).waitFor();
    assert.ok(await page.locator('.hit').count() > 0);

    const entry = page.locator('details[data-faq]').first();
    await entry.locator('summary').click();
    const answer = entry.getByLabel('答案');
    await answer.fill(`${await answer.inputValue()}（E2E 编辑）`);
    await entry.getByRole('button', { name: '保存' }).click();
    await toast(page, '常见问题已更新');

    await page.getByLabel(/^文件/).setInputFiles({
      name: '停水通知.md', mimeType: 'text/markdown',
      buffer: Buffer.from('# 停水通知\n\n## 本周六停水\n\n因二次供水设备检修，本周六上午9点至12点全小区停水，请提前储水。\n'),
    });
    await page.getByRole('button', { name: '上传' }).click();
    await toast(page, '文档已导入知识库');
    await page.getByRole('cell', { name: 'uploads/停水通知.md' }).waitFor();

    await page.locator('button[data-promote]').first().click();
    await toast(page, '已加入话术库');
    assert.deepEqual(await unlabelled(page), []);
    await shot(page, '09-knowledge');
  });

  test('incidents and the dashboard render, with charts', async () => {
    await page.getByRole('link', { name: '事件' }).click();
    await page.getByRole('heading', { name: '事件', exact: true }).waitFor();
    await page.getByRole('link', { name: '数据看板' }).click();
    await page.getByRole('heading', { name: '数据看板' }).waitFor();
    assert.equal(await page.locator('canvas').count(), 6);
    // Drawn by Chart.js, not just placed.
    assert.equal(await page.evaluate(() => [...document.querySelectorAll('canvas')].filter((c) => window.Chart?.getChart(c)).length), 6);
    assert.ok(await page.locator('details table tbody tr').count() >= 6, 'the charts lack their data tables');
    assert.deepEqual(await unlabelled(page), []);
    await shot(page, '10-dashboard');
    assert.deepEqual(page.problems, []);
  });

  test('an agent cannot see the dashboard and is told so', async () => {
    const p = await newPage();
    await login(p, agent);
    assert.equal(await p.getByRole('link', { name: '数据看板' }).count(), 0);
    await p.goto(`${base}/console/#/dashboard`);
    await p.getByRole('alert').filter({ hasText: '权限' }).waitFor();
    await p.context().close();
  });
});

describe('owner chat page', () => {
  test('answers a question with its source, opens a ticket for a fault and shows its progress', async () => {
    const page = await newPage({ width: 390, height: 844 });
    await page.goto(`${base}/h5/?owner=e2e-owner-1`);
    await page.getByLabel('您的问题或情况').fill('物业费可以用微信交吗');
    await page.getByRole('button', { name: '发送' }).click();
    await page.locator('.sources', { hasText: '依据' }).first().waitFor();
    await shot(page, '11-h5-answer');

    await page.getByLabel('您的问题或情况').fill('5栋1单元的电梯坏了，一直停在3楼不动');
    await page.keyboard.press('Enter');
    await page.locator('.ref').first().waitFor();
    const ref = (await page.locator('.ref').first().textContent()).replace('工单号 ', '');
    await page.locator(`#tickets li[data-ref="${ref}"]`).waitFor();
    assert.match(await page.locator(`#tickets li[data-ref="${ref}"]`).textContent(), /新建|已派单/);

    await page.getByLabel('您的问题或情况').fill(XSS);
    await page.getByRole('button', { name: '发送' }).click();
    await page.locator('#turns li.owner', { hasText: '<img' }).waitFor();
    assert.equal(await page.locator('#turns img, #turns script').count(), 0);
    assert.equal(await page.evaluate(() => window.__xss), undefined);

    await page.reload(); // the conversation and its tickets come back
    await page.locator(`#tickets li[data-ref="${ref}"]`).waitFor();
    assert.deepEqual(page.problems, []);
    await shot(page, '12-h5-ticket');
    await page.context().close();
  });
});
