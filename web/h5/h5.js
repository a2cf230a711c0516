// The owners' chat page: ask, see the answer with its source or get a
// ticket reference and the promised time, and follow the ticket. Owners'
// and staff's words are set as text only.

const turns = document.getElementById('turns');
const form = document.getElementById('ask');
const input = document.getElementById('text');
const send = document.getElementById('send');
const KEY = 'huiyin.conversation';

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function addTurn(role, body, citations, ticket) {
  const li = el('li', role);
  const b = el('div', 'bubble', body);
  if (citations && citations.length) {
    b.append(el('div', 'sources', `依据：${citations.map((c) => `《${c.doc}》${c.section}`).join('；')}`));
  }
  if (ticket && role !== 'owner') b.append(el('div', 'ref', `工单号 ${ticket}`));
  li.append(b);
  turns.append(li);
  li.scrollIntoView({ block: 'end' });
}

function showTickets(list) {
  const box = document.getElementById('tickets-box');
  const ul = document.getElementById('tickets');
  ul.replaceChildren();
  for (const t of list || []) {
    const li = el('li');
    li.dataset.ref = t.ref;
    li.append(el('span', 'state', t.state_name), el('strong', '', t.ref), el('div', '', t.problem || ''));
    li.append(el('div', 'sources', `预计 ${new Date(t.resolution_by).toLocaleString('zh-CN', { month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false })} 前处理完毕`));
    for (const r of t.replies || []) li.append(el('div', 'reply', r));
    ul.append(li);
  }
  box.hidden = !ul.children.length;
}

// rendered counts the turns on screen, so that a refresh appends only new
// ones and screen readers hear only those.
let rendered = 0;

async function load() {
  const token = localStorage.getItem(KEY);
  if (!token) {
    if (!rendered) addTurn('assistant', '您好，我是物业服务助手。可以问我缴费、装修、停车等问题；报修或投诉请直接描述情况和位置，我会为您登记工单。');
    return;
  }
  const res = await fetch(`/api/v1/chat/${encodeURIComponent(token)}`);
  if (res.status === 404) {
    // The conversation is gone; anything else (busy, offline) is passing.
    localStorage.removeItem(KEY);
    return;
  }
  if (!res.ok) return;
  const conv = await res.json();
  if (!rendered) turns.replaceChildren();
  for (const t of conv.turns.slice(rendered)) addTurn(t.role, t.body, t.citations, t.ticket);
  rendered = Math.max(rendered, conv.turns.length);
  showTickets(conv.tickets);
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const text = input.value.trim();
  if (!text) return;
  send.disabled = true;
  addTurn('owner', text);
  input.value = '';
  try {
    const owner = new URLSearchParams(location.search).get('owner') || '';
    const res = await fetch('/api/v1/chat', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ conversation: localStorage.getItem(KEY) || '', owner, message_id: crypto.randomUUID(), text }),
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.error || '发送失败，请稍后再试');
    const fresh = !localStorage.getItem(KEY);
    localStorage.setItem(KEY, body.conversation);
    addTurn('assistant', body.answer, body.citations, body.ticket);
    // The two turns just shown are stored; the greeting is not.
    rendered = (fresh ? 0 : rendered) + 2;
    if (body.ticket) await load();
  } catch (e) {
    const li = el('li', 'assistant');
    li.append(el('div', 'bubble error', e.message));
    turns.append(li);
  } finally {
    send.disabled = false;
    input.focus();
  }
});

input.addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
    ev.preventDefault();
    form.requestSubmit();
  }
});

load().catch(() => {});
setInterval(() => { if (localStorage.getItem(KEY) && !send.disabled) load().catch(() => {}); }, 30000);
