// The staff console: a small single-page app over huiyin's JSON API.
// Every piece of text from owners or the server is set with textContent
// (through h below); nothing is ever assigned to innerHTML.

const API = '/api/v1';
const view = document.getElementById('view');
let me = null;
let tax = null;
let refreshTimer = null;

// h builds an element. props: class, for, aria-*, data-*, other attributes;
// on* functions become listeners; value/checked/selected/disabled set
// properties. Children are nodes or strings (as text), null skipped.
function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (['value', 'checked', 'selected', 'disabled', 'hidden'].includes(k)) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function toast(text, isError) {
  const box = document.getElementById('toast');
  const el = h('div', { class: isError ? 'error' : '' }, text);
  box.append(el);
  setTimeout(() => el.remove(), isError ? 8000 : 4000);
}

class APIError extends Error {
  constructor(status, body) {
    super((body && body.error) || `请求失败（${status}）`);
    this.status = status;
  }
}

async function api(path, opts = {}) {
  const init = { method: opts.method || 'GET', credentials: 'same-origin', headers: {} };
  if (opts.form) {
    init.body = opts.form;
  } else if (opts.body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(opts.body);
  }
  const res = await fetch(API + path, init);
  const type = res.headers.get('Content-Type') || '';
  const body = type.includes('application/json') ? await res.json().catch(() => null) : await res.text();
  if (res.status === 401 && path !== '/auth/login') {
    me = null;
    location.hash = '#/login';
    throw new APIError(401, { error: '登录已过期，请重新登录' });
  }
  if (!res.ok) throw new APIError(res.status, body);
  return body;
}

// act runs an action from a button, shows its outcome and re-renders.
async function act(button, fn, done) {
  if (button) button.disabled = true;
  // The page is drawn again after the action; focus goes back to the
  // same control (by id or text) so that keyboard users keep their place.
  const again = button && (button.id ? `#${CSS.escape(button.id)}` : null);
  const text = button && button.textContent;
  try {
    const out = await fn();
    await route();
    if (done) toast(done);
    const next = (again && document.querySelector(again))
      || [...view.querySelectorAll('button')].find((b) => b.textContent === text);
    (next || view).focus();
    return out;
  } catch (e) {
    toast(e.message, true);
  } finally {
    if (button) button.disabled = false;
  }
}

const isLead = () => me && ['lead', 'manager', 'admin'].includes(me.role);
const channelNames = { wechat: '微信', app: 'APP', web: '网页', phone: '电话' };
const incidentStates = { open: '处理中', answered: '已回复', resolved: '已解决' };
const nameOf = (list, value) => ((tax && tax[list].find((x) => x.value === value)) || { name: value || '—' }).name;
const pct = (x) => `${Math.round((x || 0) * 100)}%`;

function fmtTime(s) {
  if (!s) return '—';
  const d = new Date(s);
  return d.toLocaleString('zh-CN', { month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false });
}

// timeLeft says how long until t, or how long past it.
function timeLeft(t, now = Date.now()) {
  const ms = new Date(t).getTime() - now;
  const m = Math.round(Math.abs(ms) / 60000);
  const words = m < 60 ? `${m} 分钟` : m < 1440 ? `${Math.floor(m / 60)} 小时 ${m % 60} 分` : `${Math.floor(m / 1440)} 天 ${Math.floor((m % 1440) / 60)} 小时`;
  return { overdue: ms < 0, text: ms < 0 ? `已超时 ${words}` : `剩余 ${words}` };
}

function place(t) {
  const parts = [];
  if (t.building) parts.push(`${t.building}栋`);
  if (t.unit) parts.push(`${t.unit}单元`);
  if (t.room) parts.push(t.room);
  if (!parts.length && t.area) parts.push(t.area);
  return parts.join('') || '—';
}

function urgencyBadge(u) {
  return h('span', { class: `badge ${u}` }, nameOf('urgencies', u));
}

function select(name, labelText, options, value, extra = {}) {
  return h('label', {}, labelText,
    h('select', { name, ...extra },
      options.map((o) => h('option', { value: o.value, selected: o.value === value }, o.name))));
}

// ---- login ---------------------------------------------------------------

function renderLogin() {
  document.getElementById('top').hidden = true;
  const err = h('p', { class: 'overdue-text', role: 'alert' });
  const form = h('form', {
    async onsubmit(ev) {
      ev.preventDefault();
      const fd = new FormData(form);
      err.textContent = '';
      try {
        await api('/auth/login', { method: 'POST', body: { username: fd.get('username'), password: fd.get('password') } });
        await loadSession();
        location.hash = '#/queue';
      } catch (e) {
        err.textContent = e.message;
      }
    },
  },
  h('label', { for: 'username' }, '用户名', h('input', { id: 'username', name: 'username', autocomplete: 'username', required: true, autofocus: true })),
  h('label', { for: 'password' }, '密码', h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
  err,
  h('button', { type: 'submit' }, '登录'));
  view.replaceChildren(h('section', { class: 'card login' }, h('h1', {}, '回音 · 物业工单工作台'), form));
  form.querySelector('input').focus();
}

async function loadSession() {
  me = await api('/me');
  tax = await api('/taxonomy');
  document.getElementById('top').hidden = false;
  document.getElementById('who').textContent = `${me.actor}（${me.role_name}）`;
  // Analytics are for leads and up; the API says so too.
  document.querySelector('[data-nav="dashboard"]').hidden = !isLead();
}

// ---- queue ---------------------------------------------------------------

async function renderQueue(params) {
  const q = new URLSearchParams(params);
  if (!q.has('open') && !q.has('state')) q.set('open', 'true');
  const pageSize = 50;
  const offset = Number(q.get('offset')) || 0;
  q.set('limit', pageSize);
  const data = await api(`/tickets?${q}`);
  const pageLink = (to, label) => {
    const p = new URLSearchParams(q);
    p.set('offset', to);
    p.delete('limit');
    return h('a', { href: `#/queue?${p}` }, label);
  };
  const filters = h('form', {
    class: 'filters', role: 'search', 'aria-label': '筛选工单',
    onchange() {
      const fd = new FormData(filters);
      const p = new URLSearchParams();
      for (const [k, v] of fd) if (v) p.set(k, v);
      if (!fd.get('open')) p.set('open', 'false');
      location.hash = `#/queue?${p}`;
    },
    onsubmit(ev) { ev.preventDefault(); },
  },
  select('department', '部门', [{ value: '', name: '全部' }, ...tax.departments], q.get('department') || ''),
  select('state', '状态', [{ value: '', name: '全部' }, ...tax.states], q.get('state') || ''),
  select('category', '类别', [{ value: '', name: '全部' }, ...tax.categories], q.get('category') || ''),
  h('label', { class: 'inline' }, h('input', { type: 'checkbox', name: 'open', value: 'true', checked: q.get('open') === 'true' }), '只看未解决'));
  const now = Date.now();
  const rows = data.tickets.map((t) => {
    const due = t.first_responded_at ? t.resolution_by : t.first_response_by;
    const left = timeLeft(due, now);
    const done = t.state === 'resolved' || t.state === 'followed_up' || t.state === 'closed';
    return h('tr', { class: !done && (left.overdue || t.overdue) ? 'overdue' : '', 'data-ref': t.ref },
      h('td', {}, h('a', { href: `#/ticket/${encodeURIComponent(t.ref)}` }, t.ref)),
      h('td', {}, urgencyBadge(t.urgency), t.escalate ? h('span', { class: 'badge flag' }, '已上报') : null,
        t.vulnerable ? h('span', { class: 'badge flag' }, '特殊关怀') : null, t.repeat ? h('span', { class: 'badge flag' }, '重复') : null),
      h('td', {}, nameOf('categories', t.category)),
      h('td', {}, place(t)),
      h('td', {}, t.problem || '—'),
      h('td', {}, t.state_name),
      h('td', {}, nameOf('departments', t.department), t.assignee ? ` · ${t.assignee}` : ''),
      h('td', { class: `left ${!done && left.overdue ? 'overdue' : ''}` }, done ? '已完成' : `${t.first_responded_at ? '办结' : '响应'}${left.text}`));
  });
  view.replaceChildren(
    h('h1', {}, '工单队列'),
    filters,
    h('p', { class: 'muted' }, `共 ${data.total}${data.total_capped ? '+' : ''} 张，按时限排序（超时的标红）`,
      data.total > pageSize ? `；第 ${offset + 1}–${Math.min(offset + pageSize, data.total)} 张 ` : '。',
      offset > 0 ? pageLink(Math.max(0, offset - pageSize), '上一页') : null, ' ',
      offset + pageSize < data.total ? pageLink(offset + pageSize, '下一页') : null),
    h('table', { 'aria-label': '工单列表' },
      h('thead', {}, h('tr', {}, ['工单号', '紧急程度', '类别', '位置', '问题', '状态', '部门 · 处理人', '时限'].map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 8 }, '没有符合条件的工单')))));
  // Refreshed every 30 s, unless staff are working in the page (a filter
  // or link focused), whose place a redraw would take away.
  const refresh = () => {
    if (!location.hash.startsWith('#/queue')) return;
    if (view.contains(document.activeElement) && document.activeElement !== view) {
      refreshTimer = setTimeout(refresh, 30000);
      return;
    }
    route();
  };
  refreshTimer = setTimeout(refresh, 30000);
}

// ---- intake from the phone desk ------------------------------------------

function renderIntake() {
  const out = h('div', { role: 'status', 'aria-live': 'polite' });
  const form = h('form', {
    class: 'card',
    async onsubmit(ev) {
      ev.preventDefault();
      const fd = new FormData(form);
      const button = form.querySelector('button');
      button.disabled = true;
      try {
        const r = await api('/messages', {
          method: 'POST',
          body: {
            channel: 'phone', message_id: `desk-${crypto.randomUUID()}`, owner: String(fd.get('phone')).trim(),
            text: fd.get('text'), location: fd.get('location') || '', contact: fd.get('phone') || '',
          },
        });
        out.replaceChildren(h('p', { class: 'ack' }, r.ack),
          h('p', {}, '已生成工单 ', h('a', { href: `#/ticket/${encodeURIComponent(r.ticket)}` }, r.ticket),
            `：${nameOf('categories', r.triage.category)} · ${nameOf('urgencies', r.triage.urgency)} · ${r.triage.department_name}`,
            r.merged ? '（已并入该业主刚才的工单）' : '', r.repeat ? '（30 天内重复反映）' : ''));
        form.reset();
      } catch (e) {
        out.replaceChildren(h('p', { class: 'overdue-text', role: 'alert' }, e.message));
      } finally {
        button.disabled = false;
      }
    },
  },
  h('div', { class: 'row' },
    h('label', { for: 'phone' }, '来电号码', h('input', { id: 'phone', name: 'phone', required: true, inputmode: 'tel', maxlength: 30 })),
    h('label', { for: 'location' }, '位置（选填）', h('input', { id: 'location', name: 'location', placeholder: '如 3栋2单元1502', maxlength: 100 }))),
  h('label', { for: 'text' }, '业主反映的内容', h('textarea', { id: 'text', name: 'text', required: true, maxlength: 2000 })),
  h('p', {}, h('button', { type: 'submit' }, '分派工单')));
  view.replaceChildren(h('h1', {}, '录入来电'), h('p', { class: 'muted' }, '记下业主电话里说的话，系统自动分类、派单并给出答复时限。'), form, out);
}

// ---- ticket detail -------------------------------------------------------

async function renderTicket(ref) {
  const t = await api(`/tickets/${encodeURIComponent(ref)}`);
  const tr = t.triage;
  const done = ['resolved', 'followed_up', 'closed'].includes(t.state);
  const conf = tr.confidence || {};

  const labelsForm = h('form', {
    class: 'row', 'aria-label': '修正分类',
    async onsubmit(ev) {
      ev.preventDefault();
      const fd = new FormData(labelsForm);
      const body = { category: fd.get('category'), intent: fd.get('intent'), urgency: fd.get('urgency'), sentiment: fd.get('sentiment'), risks: fd.getAll('risks') };
      await act(ev.submitter, async () => {
        const r = await api(`/tickets/${encodeURIComponent(ref)}/labels`, { method: 'POST', body });
        if (!r.changed.length) throw new Error('分类没有变化');
        return r;
      }, '分类已修正，并记录为训练反馈');
    },
  },
  select('category', `类别（置信度 ${pct(conf.category)}）`, tax.categories, tr.category),
  select('intent', `诉求（${pct(conf.intent)}）`, tax.intents, tr.intent),
  select('urgency', `紧急程度（${pct(conf.urgency)}）`, tax.urgencies, tr.urgency),
  select('sentiment', `情绪（${pct(conf.sentiment)}）`, tax.sentiments, tr.sentiment),
  h('fieldset', {}, h('legend', { class: 'muted' }, '风险'),
    tax.risks.map((r) => h('label', { class: 'inline' },
      h('input', { type: 'checkbox', name: 'risks', value: r.value, checked: (tr.risks || []).includes(r.value) }), r.name))),
  h('button', { type: 'submit', class: 'secondary' }, '保存分类'));

  const pending = (t.drafts || []).find((d) => d.status === 'pending');
  let draftCard;
  if (pending) {
    const text = h('textarea', { id: 'draft-text', 'aria-label': '回复草稿（可修改后发送）', rows: 8 });
    text.value = pending.body;
    const reason = h('input', { id: 'reject-reason', placeholder: '驳回原因', maxlength: 200, 'aria-label': '驳回原因' });
    draftCard = h('section', { class: 'card', 'aria-labelledby': 'draft-h' },
      h('h2', { id: 'draft-h' }, '建议回复'),
      h('div', { class: 'grid2' },
        h('div', {}, text,
          h('p', { class: 'muted' }, `来源：${pending.source}${pending.fallback ? `（${pending.fallback}）` : ''}；话术：${pending.script || '—'}`),
          h('div', { class: 'row' },
            h('button', { type: 'button', id: 'approve', onclick: (ev) => act(ev.currentTarget, () => api(`/tickets/${encodeURIComponent(ref)}/drafts/${pending.id}/approve`, { method: 'POST', body: { text: text.value === pending.body ? '' : text.value } }), '回复已批准发送') }, text.value === pending.body ? '批准发送' : '修改后发送'),
            reason,
            h('button', { type: 'button', class: 'danger', id: 'reject', onclick: (ev) => act(ev.currentTarget, () => api(`/tickets/${encodeURIComponent(ref)}/drafts/${pending.id}/reject`, { method: 'POST', body: { reason: reason.value } }), '草稿已驳回') }, '驳回'))),
        h('div', {}, h('h3', { class: 'muted' }, '引用来源'),
          pending.citations && pending.citations.length
            ? h('ol', { class: 'cites' }, pending.citations.map((c) => h('li', {}, `${c.doc} · ${c.section}`, h('span', { class: 'muted' }, `（${c.source || ''}，相关度 ${c.score}）`))))
            : h('p', { class: 'muted' }, '本草稿按话术生成，无引用'))));
    text.addEventListener('input', () => {
      document.getElementById('approve').textContent = text.value === pending.body ? '批准发送' : '修改后发送';
    });
  } else {
    draftCard = h('section', { class: 'card' }, h('h2', {}, '建议回复'),
      h('p', { class: 'muted' }, done ? '工单已解决。' : '草稿生成中或已处理。'),
      h('button', { type: 'button', class: 'secondary', onclick: (ev) => act(ev.currentTarget, () => api(`/tickets/${encodeURIComponent(ref)}/drafts`, { method: 'POST' }), '已请求重新生成草稿') }, '重新生成草稿'));
  }

  const assignee = h('input', { id: 'assignee', name: 'assignee', placeholder: '如 zhang.wei', value: t.assignee || '' });
  const moves = (tax.moves[t.state] || []).map((s) => h('button', {
    type: 'button', class: s === 'reopened' ? 'danger' : 'secondary', 'data-state': s,
    onclick: (ev) => act(ev.currentTarget, () => api(`/tickets/${encodeURIComponent(ref)}/state`, { method: 'POST', body: { state: s } }), `已改为${nameOf('states', s)}`),
  }, `改为${nameOf('states', s)}`));

  const fu = t.follow_up;
  let followCard = null;
  if (t.state === 'resolved' || fu) {
    const due = h('input', { type: 'datetime-local', id: 'fu-due' });
    const score = h('select', { id: 'fu-score' }, [5, 4, 3, 2, 1].map((n) => h('option', { value: n }, `${n} 分`)));
    const comment = h('input', { id: 'fu-comment', placeholder: '业主的意见', maxlength: 500 });
    followCard = h('section', { class: 'card' }, h('h2', {}, '回访'),
      fu ? h('p', {}, `计划 ${fmtTime(fu.due_at)}`, fu.done_at ? `，已于 ${fmtTime(fu.done_at)} 回访：${fu.score} 分 ${fu.comment || ''}（${fu.recorded_by}）` : '') : null,
      t.state === 'resolved' ? h('div', { class: 'row' },
        h('label', { for: 'fu-due' }, '改约时间', due),
        h('button', { type: 'button', class: 'secondary', onclick: (ev) => act(ev.currentTarget, async () => {
          if (!due.value) throw new Error('请先选择回访时间');
          return api(`/tickets/${encodeURIComponent(ref)}/follow-up`, { method: 'POST', body: { due_at: new Date(due.value).toISOString() } });
        }, '回访已安排') }, '安排回访'),
        h('label', { for: 'fu-score' }, '满意度', score),
        h('label', { for: 'fu-comment' }, '意见', comment),
        h('button', { type: 'button', id: 'record-follow-up', onclick: (ev) => act(ev.currentTarget, () => api(`/tickets/${encodeURIComponent(ref)}/follow-up`, { method: 'POST', body: { score: Number(score.value), comment: comment.value } }), '回访已记录') }, '记录回访')) : null);
  }

  view.replaceChildren(
    h('p', {}, h('a', { href: '#/queue' }, '← 返回队列')),
    h('h1', {}, `工单 ${t.ref} `, urgencyBadge(t.urgency), ' ', h('span', { class: 'badge' }, t.state_name)),
    h('div', { class: 'grid2' },
      h('div', {},
        h('section', { class: 'card', 'aria-labelledby': 'msgs-h' }, h('h2', { id: 'msgs-h' }, '业主消息'),
          t.messages.map((m) => h('div', {}, h('div', { class: 'muted' }, `${fmtTime(m.received_at)} · ${channelNames[m.channel] || m.channel}${m.location ? ` · ${m.location}` : ''}`), h('p', { class: 'msg' }, m.body)))),
        draftCard,
        t.replies && t.replies.length ? h('section', { class: 'card' }, h('h2', {}, '已发送的回复'),
          t.replies.map((r) => h('div', {}, h('p', { class: 'msg' }, r.body), h('p', { class: 'muted' }, `${fmtTime(r.created_at)} · ${r.approved_by} · 改动 ${r.edit_distance} 字`)))) : null,
        followCard),
      h('div', {},
        h('section', { class: 'card' }, h('h2', {}, '分类与派单'),
          h('dl', { class: 'kv' },
            h('dt', {}, '部门'), h('dd', {}, tr.department_name || '—'),
            h('dt', {}, '处理人'), h('dd', {}, t.assignee || '未派单'),
            h('dt', {}, '位置'), h('dd', {}, place(t)),
            h('dt', {}, '问题'), h('dd', {}, t.problem || '—'),
            h('dt', {}, '首次响应'), h('dd', { class: !t.first_responded_at && timeLeft(t.first_response_by).overdue ? 'overdue-text' : '' }, `${fmtTime(t.first_response_by)} 前`, t.first_responded_at ? `（已于 ${fmtTime(t.first_responded_at)} 响应）` : ''),
            h('dt', {}, '办结时限'), h('dd', { class: !done && timeLeft(t.resolution_by).overdue ? 'overdue-text' : '' }, `${fmtTime(t.resolution_by)} 前`),
            t.escalate ? [h('dt', {}, '上报'), h('dd', { class: 'overdue-text' }, `${tr.escalate_to || ''} ${(tr.escalate_reasons || []).join('、')}`)] : null,
            t.repeat_of ? [h('dt', {}, '重复'), h('dd', {}, '30 天内再次反映，前次 ', h('a', { href: `#/ticket/${encodeURIComponent(t.repeat_of)}` }, t.repeat_of))] : null,
            t.incident ? [h('dt', {}, '事件'), h('dd', {}, h('a', { href: `#/incidents?ref=${encodeURIComponent(t.incident)}` }, t.incident))] : null,
            t.owner && t.owner.id ? [h('dt', {}, '业主'), h('dd', {}, `${t.owner.name || '未登记姓名'} ${t.owner.phone || ''}`, t.owner.vulnerable ? h('span', { class: 'badge flag' }, '特殊关怀') : null, t.owner.notes ? h('div', { class: 'muted' }, t.owner.notes) : null)] : null,
            t.breaches && t.breaches.length ? [h('dt', {}, '超时'), h('dd', { class: 'overdue-text' }, t.breaches.join('、'))] : null),
          isLead() ? [h('h3', { class: 'muted' }, '修正分类'), labelsForm] : null),
        h('section', { class: 'card' }, h('h2', {}, '处理'),
          isLead() ? h('div', { class: 'row' }, h('label', { for: 'assignee' }, '派给（员工用户名）', assignee),
            h('button', { type: 'button', id: 'assign', onclick: (ev) => act(ev.currentTarget, () => api(`/tickets/${encodeURIComponent(ref)}/assign`, { method: 'POST', body: { assignee: assignee.value.trim() } }), '已派单') }, '派单'))
            : h('p', { class: 'muted' }, '派单由主管操作'),
          h('div', { class: 'row' }, moves)),
        h('section', { class: 'card' }, h('h2', {}, '处理记录'),
          h('ol', { class: 'history' }, (t.history || []).map((e) => h('li', {}, `${fmtTime(e.at)} ${e.actor}：`, e.to ? `${nameOf('states', e.from)} → ${nameOf('states', e.to)} ` : '', e.note || (historyKinds[e.kind] ?? e.kind))))))));
}

// What an event without a note says; a state change shows its states.
const historyKinds = {
  state: '', created: '创建', assigned: '派单', draft: '草稿已生成', draft_requested: '请求重新生成草稿',
  draft_rejected: '驳回草稿', reply: '发送回复', escalated: '已上报', sla_breach: '超时', merged: '合并消息',
  repeat: '重复反映', vulnerable: '特殊关怀', incident: '并入事件', relabeled: '修正分类',
  follow_up_scheduled: '安排回访', follow_up_due: '回访到期',
};

// ---- incidents -----------------------------------------------------------

async function renderIncidents() {
  const data = await api('/incidents');
  const cards = (data.incidents || []).map((inc) => {
    const text = h('textarea', { 'aria-label': `给事件 ${inc.ref} 的全部业主回复`, maxlength: 2000 });
    return h('section', { class: 'card', id: `inc-${inc.ref}` },
      h('h2', {}, `${inc.ref} · ${nameOf('categories', inc.category)} · ${inc.building ? `${inc.building}栋` : inc.area || ''} `, h('span', { class: 'badge' }, incidentStates[inc.state] || inc.state)),
      h('p', {}, inc.summary),
      h('ul', {}, inc.tickets.map((t) => h('li', {}, h('a', { href: `#/ticket/${encodeURIComponent(t.ref)}` }, t.ref), ` ${place(t)} ${t.problem} · ${t.state_name}`))),
      text,
      h('button', { type: 'button', onclick: (ev) => act(ev.currentTarget, () => api(`/incidents/${encodeURIComponent(inc.ref)}/reply`, { method: 'POST', body: { text: text.value } }), `已回复 ${inc.tickets.length} 位业主`) }, `回复全部 ${inc.tickets.length} 位业主`));
  });
  view.replaceChildren(h('h1', {}, '事件'), h('p', { class: 'muted' }, '多位业主反映的同一故障合并为一个事件，回复一次即发给每位业主。'),
    cards.length ? cards : h('p', {}, '暂无事件'));
}

// ---- knowledge -----------------------------------------------------------

async function renderKnowledge(params) {
  const q = new URLSearchParams(params).get('q') || '';
  const [docs, faq, replies] = await Promise.all([api('/knowledge/documents'), api('/knowledge/faq'), api('/replies')]);
  const results = h('div', { 'aria-live': 'polite' });
  if (q) {
    const r = await api(`/knowledge/search?q=${encodeURIComponent(q)}`);
    const a = r.answer;
    results.append(
      a ? h('div', { class: 'card' }, h('h2', {}, a.handoff ? '机器人会转人工' : '机器人会这样回答'),
        h('p', { class: 'msg' }, a.answer),
        h('p', { class: 'muted' }, `来源 ${a.source} · 置信度 ${pct(a.confidence)}`, a.reason ? ` · 原因 ${a.reason}` : '')) : null,
      h('div', { class: 'card' }, h('h2', {}, `检索到的段落（${r.hits.length}）`),
        r.hits.map((x) => h('div', { class: 'hit' },
          h('strong', {}, `${x.doc} · ${x.section}`),
          h('span', { class: 'muted' }, ` ${x.source} · ${x.kind} · 综合 ${x.score.toFixed(3)} · 向量 ${x.similarity.toFixed(3)} · 关键词 ${x.keyword.toFixed(2)}`),
          h('p', {}, x.text)))));
  }
  const search = h('form', {
    class: 'row', role: 'search',
    onsubmit(ev) { ev.preventDefault(); location.hash = `#/knowledge?q=${encodeURIComponent(new FormData(search).get('q'))}`; },
  }, h('label', { for: 'kb-q' }, '像业主那样提问', h('input', { id: 'kb-q', name: 'q', value: q, size: 40, required: true, maxlength: 500 })), h('button', { type: 'submit' }, '搜索'));

  const upload = h('form', {
    class: 'row',
    async onsubmit(ev) {
      ev.preventDefault();
      await act(ev.submitter, () => api('/knowledge/documents', { method: 'POST', form: new FormData(upload) }), '文档已导入知识库');
    },
  },
  h('label', { for: 'kb-file' }, '文件（.md .txt .html .docx）', h('input', { id: 'kb-file', type: 'file', name: 'file', required: true, accept: '.md,.markdown,.txt,.html,.htm,.docx' })),
  select('kind', '类型', [{ value: '', name: '按文件自述' }, { value: 'standard', name: '服务标准' }, { value: 'faq', name: '常见问题' }, { value: 'script', name: '话术' }, { value: 'law', name: '法规' }], ''),
  h('button', { type: 'submit' }, '上传'));

  const faqFilter = h('input', { id: 'faq-filter', placeholder: '筛选问题', 'aria-label': '筛选常见问题' });
  const faqList = h('div', { class: 'faq' });
  const drawFAQ = () => {
    const f = faqFilter.value.trim();
    faqList.replaceChildren(...faq.entries.filter((e) => !f || e.question.includes(f) || e.answer.includes(f)).slice(0, 30).map((e) => {
      const qIn = h('input', { value: e.question, size: 50, 'aria-label': '问题', maxlength: 200 });
      const aIn = h('textarea', { 'aria-label': '答案', maxlength: 4000 });
      aIn.value = e.answer;
      return h('details', { 'data-faq': e.id }, h('summary', {}, e.question, h('span', { class: 'muted' }, ` · ${e.doc}`)),
        h('label', {}, '问题', qIn), h('label', {}, '答案', aIn),
        isLead() ? h('button', { type: 'button', onclick: (ev) => act(ev.currentTarget, () => api(`/knowledge/faq/${e.id}`, { method: 'PUT', body: { question: qIn.value, answer: aIn.value } }), '常见问题已更新') }, '保存')
          : h('p', { class: 'muted' }, '修改常见问题需主管权限'));
    }));
  };
  faqFilter.addEventListener('input', drawFAQ);
  drawFAQ();

  const replyList = (replies.replies || []).slice().reverse().map((r) => {
    const situation = h('input', { placeholder: '适用情形（选填）', maxlength: 100, 'aria-label': `回复 ${r.id} 的适用情形` });
    return h('div', { class: 'hit' }, h('p', {}, r.body), h('span', { class: 'muted' }, `${r.ticket} · ${r.approved_by} · ${fmtTime(r.created_at)} `),
      r.promoted ? h('span', { class: 'badge' }, '已入话术库')
        : !isLead() ? null : h('span', {}, situation, ' ', h('button', { type: 'button', class: 'secondary', 'data-promote': r.id, onclick: (ev) => act(ev.currentTarget, () => api(`/replies/${r.id}/promote`, { method: 'POST', body: situation.value ? { situation: situation.value } : {} }), '已加入话术库') }, '加入话术库')));
  });

  view.replaceChildren(h('h1', {}, '知识库'), search, results,
    h('section', { class: 'card' }, h('h2', {}, '常见问题'), faqFilter, faqList),
    isLead() ? h('section', { class: 'card' }, h('h2', {}, '上传文档'), upload) : null,
    h('section', { class: 'card' }, h('h2', {}, '最近批准的回复'), replyList.length ? replyList : h('p', { class: 'muted' }, '暂无')),
    h('section', { class: 'card' }, h('h2', {}, `文档（${docs.documents.length}）`),
      h('table', {}, h('thead', {}, h('tr', {}, ['来源', '标题', '类型', '段落'].map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', {}, docs.documents.map((d) => h('tr', {}, h('td', {}, d.source), h('td', {}, d.title), h('td', {}, d.kind), h('td', {}, d.chunks)))))));
}

// ---- dashboard -----------------------------------------------------------

const charts = [];

function chart(title, type, labels, datasets, opts = {}) {
  const canvas = h('canvas', { role: 'img', 'aria-label': `${title}（数据见下表）` });
  // The numbers behind the chart, for screen readers and for reading off.
  const table = h('details', {}, h('summary', {}, '查看数据'),
    h('table', {}, h('caption', { class: 'muted' }, title),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, '项目'), datasets.map((d) => h('th', { scope: 'col' }, d.label)))),
      h('tbody', {}, labels.map((l, i) => h('tr', {}, h('th', { scope: 'row' }, l), datasets.map((d) => h('td', {}, d.data[i] ?? '—')))))));
  const card = h('section', { class: 'card' }, h('h2', {}, title), canvas, table);
  if (window.Chart) {
    charts.push(new window.Chart(canvas, {
      type, data: { labels, datasets },
      options: { responsive: true, animation: false, plugins: { legend: { display: datasets.length > 1 } }, ...opts },
    }));
  }
  return card;
}

async function renderDashboard(params) {
  const q = new URLSearchParams(params);
  const a = await api(`/analytics/summary?${q}`);
  while (charts.length) charts.pop().destroy();
  const period = h('form', {
    class: 'row',
    onsubmit(ev) { ev.preventDefault(); const fd = new FormData(period); location.hash = `#/dashboard?from=${fd.get('from')}&to=${fd.get('to')}`; },
  },
  h('label', { for: 'from' }, '从', h('input', { id: 'from', name: 'from', type: 'date', value: a.from.slice(0, 10), required: true })),
  h('label', { for: 'to' }, '到', h('input', { id: 'to', name: 'to', type: 'date', value: new Date(new Date(a.to).getTime() - 1).toISOString().slice(0, 10), required: true })),
  h('button', { type: 'submit' }, '查看'),
  h('a', { href: `${API}/analytics/tickets.csv?${q}`, download: 'tickets.csv' }, '导出 CSV'),
  h('a', { href: `${API}/feedback.jsonl` }, '导出分类反馈'));
  const fr = a.first_response;
  const rs = a.resolution;
  view.replaceChildren(h('h1', {}, '数据看板'), period,
    h('section', { class: 'card' },
      h('span', { class: 'stat' }, h('b', {}, a.tickets), '工单'),
      h('span', { class: 'stat' }, h('b', {}, pct(fr.compliance)), '按时响应'),
      h('span', { class: 'stat' }, h('b', {}, pct(rs.compliance)), '按时办结'),
      h('span', { class: 'stat' }, h('b', {}, a.repeats), '重复投诉'),
      h('span', { class: 'stat' }, h('b', {}, a.escalated), '上报'),
      h('span', { class: 'stat' }, h('b', {}, a.satisfaction.responses ? a.satisfaction.average.toFixed(1) : '—'), `满意度（${a.satisfaction.responses} 次回访）`)),
    h('div', { class: 'charts' },
      chart('各类别工单量', 'bar', a.by_category.map((c) => nameOf('categories', c.key)), [{ label: '工单', data: a.by_category.map((c) => c.count), backgroundColor: '#0b5cad' }]),
      chart('每周工单量', 'line', a.by_week.map((c) => c.key), [{ label: '工单', data: a.by_week.map((c) => c.count), borderColor: '#0b5cad' }]),
      chart('时限达成率', 'bar', ['首次响应', '办结'], [
        { label: '按时', data: [fr.met, rs.met], backgroundColor: '#1a7f37' },
        { label: '超时', data: [fr.late, rs.late], backgroundColor: '#b42318' }], { scales: { x: { stacked: true }, y: { stacked: true } } }),
      chart('响应与办结用时（分钟）', 'bar', ['首次响应', '办结'], [
        { label: '中位数', data: [fr.median_minutes, rs.median_minutes], backgroundColor: '#0b5cad' },
        { label: 'P90', data: [fr.p90_minutes, rs.p90_minutes], backgroundColor: '#9a6700' }]),
      chart('满意度趋势', 'line', a.satisfaction.by_week.map((s) => s.week), [{ label: '平均分', data: a.satisfaction.by_week.map((s) => s.average), borderColor: '#1a7f37' }], { scales: { y: { min: 1, max: 5 } } }),
      chart('楼栋热点', 'bar', a.by_building.map((b) => `${b.key}栋`), [{ label: '工单', data: a.by_building.map((b) => b.count), backgroundColor: '#9a6700' }], { indexAxis: 'y' })),
    h('section', { class: 'card' }, h('h2', {}, '高发问题'),
      h('ol', {}, a.top_problems.map((p) => h('li', {}, `${nameOf('categories', p.category)} · ${p.problem}（${p.count} 次）`)))));
}

// ---- routing -------------------------------------------------------------

const routes = {
  queue: renderQueue,
  intake: renderIntake,
  ticket: renderTicket,
  incidents: renderIncidents,
  knowledge: renderKnowledge,
  dashboard: renderDashboard,
};

async function route() {
  clearTimeout(refreshTimer);
  const hash = location.hash.replace(/^#\/?/, '') || 'queue';
  const [path, query = ''] = hash.split('?');
  const [name, arg] = path.split('/');
  if (name === 'login') return renderLogin();
  if (!me) {
    try {
      await loadSession();
    } catch {
      location.hash = '#/login';
      return renderLogin();
    }
  }
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const render = routes[name] || renderQueue;
  try {
    await render(arg ? decodeURIComponent(arg) : query, query);
  } catch (e) {
    if (e.status === 401) return renderLogin();
    view.replaceChildren(h('p', { class: 'overdue-text', role: 'alert' }, e.message));
  }
}

document.getElementById('logout').addEventListener('click', async () => {
  try { await api('/auth/logout', { method: 'POST' }); } catch { /* signed out either way */ }
  me = null;
  location.hash = '#/login';
});
// After a page change focus goes to the page's first field when it has
// one marked autofocus, else to the page, so that screen readers start there.
window.addEventListener('hashchange', () => {
  route().then(() => (view.querySelector('[autofocus]') || view).focus());
});
route();
