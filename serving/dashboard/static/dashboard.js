/* The leadscore dashboard: reads the service's JSON API (relative URLs, so it works behind a
 * path prefix) or, in a self-contained report, the data embedded in the page, and draws it.
 *
 * Every section ends in one of three states, written to its data-state attribute:
 * "ready" (drawn), "empty" (no data yet: a sentence, never an error) or "error" (the endpoint
 * answered non-2xx: its status and message). Endpoint failures are shown, not logged.
 */
"use strict";

(function () {
  const C = window.LeadscoreCharts;
  const { h } = C;
  const KEY_STORAGE = "leadscore-api-key";
  const ROLE_ORDER = ["inbound_specialist", "prospector", "closer", "account_manager"];
  const METRIC_ORDER = ["val_roc_auc", "val_pr_auc", "val_brier", "val_log_loss"];
  const OVERALL_COLOR = "#94a3b8";

  class HttpError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  // ---- data sources --------------------------------------------------------------------

  function storedKey() {
    try {
      return window.sessionStorage.getItem(KEY_STORAGE);
    } catch {
      return null; // storage can be off (private modes, file pages); the key is then per load
    }
  }

  async function detailOf(response) {
    try {
      const body = await response.json();
      if (typeof body.detail === "string") return body.detail;
      if (Array.isArray(body.detail)) {
        return body.detail.map((e) => `${(e.loc || []).join(".")}: ${e.msg}`).join("; ");
      }
      if (body.detail && typeof body.detail.message === "string") return body.detail.message;
    } catch {
      // not JSON: the status text says enough
    }
    return response.statusText;
  }

  /** GET a relative API path; non-2xx becomes an HttpError carrying the service's message. */
  async function getJson(path, params) {
    const query = params ? `?${new URLSearchParams(params)}` : "";
    const headers = { Accept: "application/json" };
    const key = document.getElementById("api-key")?.value.trim() || storedKey();
    if (key) headers.Authorization = `Bearer ${key}`;
    let response;
    try {
      response = await fetch(path + query, { headers, credentials: "same-origin" });
    } catch {
      throw new HttpError(0, "the service did not answer");
    }
    if (!response.ok) throw new HttpError(response.status, await detailOf(response));
    return response.json();
  }

  const BACKTEST_HORIZON_DAYS = 90;

  /** The backtest of the scores given one horizon before the period: by now their leads
   * have had the horizon to convert, as if the period had been judged then and checked today. */
  function loadBacktest(period) {
    const shift = BACKTEST_HORIZON_DAYS * 24 * 3600 * 1000;
    const back = (iso) => new Date(new Date(iso).getTime() - shift).toISOString();
    return getJson("v1/insights/backtest", { start: back(period.start), end: back(period.end),
      horizon_days: BACKTEST_HORIZON_DAYS });
  }

  // ---- formatting ------------------------------------------------------------------------

  const words = (key) => (key === null || key === undefined ? "(none)" : String(key).replaceAll("_", " "));

  function minutes(value) {
    if (!C.isNumber(value)) return "n/a";
    return value < 120 ? `${value.toFixed(0)} min` : `${(value / 60).toFixed(1)} h`;
  }

  function hours(value) {
    if (!C.isNumber(value)) return "n/a";
    return value < 48 ? `${value.toFixed(1)} h` : `${(value / 24).toFixed(1)} d`;
  }

  function when(iso) {
    const moment = new Date(iso);
    return Number.isNaN(moment.getTime()) ? String(iso ?? "")
      : moment.toISOString().replace("T", " ").slice(0, 16) + " UTC";
  }

  function day(iso) {
    return typeof iso === "string" ? iso.slice(0, 10) : "?";
  }

  function empty(message) {
    return h("p", { class: "empty", text: message });
  }

  function block(...children) {
    return h("div", { class: "section-body" }, ...children);
  }

  // ---- sections ------------------------------------------------------------------------

  function renderFunnel(body, by) {
    const overall = body.overall || { counts: {}, conversions: [] };
    const groups = body.groups || [];
    if (!groups.length || !(overall.counts.created > 0)) return empty("No leads in this period yet");
    const stages = body.stages || Object.keys(overall.counts);
    const steps = overall.conversions.map((c) => `→ ${c.to}`);
    const point = (c, counts) => c && {
      value: c.rate, low: c.low, high: c.high, marker: c.shrunk_rate, markerName: "shrunk",
      faint: c.small, label: `${C.number(counts[c.to])} of ${C.number(counts[c.from])}`,
    };
    const series = [{ key: "all", group: overall, color: OVERALL_COLOR },
      ...groups.map((group, i) => ({ key: group.key, group, color: C.color(i) }))]
      .map((item) => ({
        name: words(item.key), color: item.color,
        values: overall.conversions.map((step) => point(
          (item.group.conversions || []).find((c) => c.from === step.from && c.to === step.to),
          item.group.counts || {})),
      }));
    const chart = C.groupedBars({
      title: `Conversion between consecutive stages, by ${by}`,
      desc: `Share of leads reaching each stage from the one before, for ${groups.length} ` +
        `${by} groups and overall, with 95% Wilson intervals.`,
      categories: steps, series, max: 1,
      caption: "Bars: conversion from the previous stage. Whiskers: 95% Wilson interval. " +
        "Dots: the rate shrunk toward the overall rate (k = 20). Pale bars: fewer than 30 " +
        "leads at the step's start, so read them with care.",
    });
    const rows = [...groups, { ...overall, key: "all" }];
    const counts = C.table({
      caption: `Leads reaching each stage, by ${by}`,
      columns: [{ label: by, value: (g) => words(g.key) + (g.small ? " (small)" : "") },
        ...stages.map((stage) => ({ label: stage, numeric: true,
          value: (g) => C.number((g.counts || {})[stage] ?? 0) }))],
      rows, rowClass: (g) => (g.small ? "small" : null),
    });
    return block(chart, counts);
  }

  function renderSpeed(body) {
    const byChannel = body.by_channel || [];
    const byRep = body.by_rep || [];
    if (![...byChannel, ...byRep].some((row) => row.leads > 0)) {
      return empty("No leads in this period yet");
    }
    const rows = (field) => byChannel.map((row) => ({ label: words(row.key), p50: row[field]?.p50,
      p90: row[field]?.p90, n: row[field]?.n ?? 0 }));
    const parts = [
      h("h3", { text: "First touch after creation" }),
      C.percentileBars({ title: "Minutes from creation to first contact, by channel",
        desc: "Median and 90th percentile of the time to first touch per channel.",
        rows: rows("first_touch_minutes"), format: minutes }),
      h("h3", { text: "Qualification after creation" }),
      C.percentileBars({ title: "Hours from creation to qualification, by channel",
        desc: "Median and 90th percentile of the time to qualification per channel.",
        rows: rows("qualification_hours"), format: hours }),
    ];
    if (byRep.length) {
      const pct = (row, field, key) => row[field]?.[key];
      parts.push(C.table({
        caption: "Speed to lead by rep (median · 90th percentile, n measured)",
        columns: [
          { label: "rep", value: (r) => r.key },
          { label: "leads", numeric: true, value: (r) => C.number(r.leads) },
          { label: "first touch", numeric: true, value: (r) =>
            `${minutes(pct(r, "first_touch_minutes", "p50"))} · ` +
            `${minutes(pct(r, "first_touch_minutes", "p90"))} (${C.number(pct(r, "first_touch_minutes", "n") ?? 0)})` },
          { label: "qualified", numeric: true, value: (r) =>
            `${hours(pct(r, "qualification_hours", "p50"))} · ` +
            `${hours(pct(r, "qualification_hours", "p90"))} (${C.number(pct(r, "qualification_hours", "n") ?? 0)})` },
        ],
        rows: byRep,
      }));
    }
    return block(...parts);
  }

  function renderWorkload(body) {
    const reps = body.reps || [];
    if (!reps.length) return empty("No reps in the roster yet");
    const roles = [...new Set([...ROLE_ORDER, ...reps.map((r) => r.role)])]
      .filter((role) => reps.some((r) => r.role === role));
    const totals = new Map((body.by_role || []).map((t) => [t.role, t]));
    const parts = roles.map((role) => {
      const members = reps.filter((r) => r.role === role)
        .sort((a, b) => (b.load / (b.capacity || 1)) - (a.load / (a.capacity || 1)) ||
          String(a.rep_id).localeCompare(String(b.rep_id)));
      const total = totals.get(role);
      const heading = total
        ? `${words(role)}: ${C.number(total.load)} of ${C.number(total.capacity)} ` +
          `(${C.percent(total.capacity ? total.load / total.capacity : null)})`
        : words(role);
      return [h("h3", { text: heading }), C.loadBars({
        title: `Open work against capacity, ${words(role)}s`,
        desc: `${members.length} reps; bars are the open items, tracks the capacity.`,
        rows: members.map((r) => ({
          label: r.name ? `${r.name} (${r.rep_id})` : r.rep_id, value: r.load, limit: r.capacity,
          muted: !r.active || !r.available,
          note: !r.active ? "inactive" : !r.available ? "not available" : null,
        })),
      })];
    });
    return block(...parts.flat(), h("p", { class: "note",
      text: "Grey: inactive or not available. Red: over capacity." }));
  }

  function backtestChart(version, rows, what) {
    return C.groupedBars({
      title: `Predicted and realised conversion by ${what}, ${version.model} v${version.version}`,
      desc: `For each ${what}: mean predicted probability and realised conversion with its 95% ` +
        "Wilson interval.",
      categories: rows.map((r) => (what === "decile" ? `d${r.key}` : String(r.key))),
      series: [
        { name: "predicted", color: "#94a3b8", values: rows.map((r) => ({ value: r.predicted })) },
        { name: "realised", color: "#2563eb", values: rows.map((r) => ({
          value: r.realised, low: r.low, high: r.high, outside: r.outside,
          label: `${C.number(r.leads)} leads${r.outside ? ", prediction outside the interval" : ""}`,
        })) },
      ],
    });
  }

  function renderBacktest(body) {
    const versions = body.versions || [];
    const warnings = body.warnings || [];
    if (!versions.length) {
      return empty(`No scores old enough to judge yet: a score counts once its lead has had ` +
        `${body.horizon_days ?? 90} days to convert.`);
    }
    const parts = [h("p", { class: "note", text: `Scores given ${body.horizon_days} days before ` +
      `this period, against what happened within ${body.horizon_days} days. A red outline: the ` +
      "prediction is outside the realised rate's 95% interval." })];
    if (warnings.length) {
      parts.push(h("ul", { class: "warnings", "aria-label": "warnings" },
        warnings.map((w) => h("li", { text: w }))));
    }
    for (const version of versions) {
      parts.push(h("h3", { text: `${version.model} v${version.version} · ` +
        `${C.number(version.leads)} leads` }));
      const charts = h("div", { class: "pair" });
      if ((version.by_grade || []).length) charts.append(backtestChart(version, version.by_grade, "grade"));
      if ((version.by_decile || []).length) {
        charts.append(backtestChart(version, version.by_decile, "decile"));
      }
      parts.push(charts);
    }
    return block(...parts);
  }

  const DRIFT_SHOWN = 8;

  function driftBand(psi, band) {
    if (!C.isNumber(psi) || !band) return "-";
    return h("span", { class: `band ${band}`, text: `${psi.toFixed(3)} ${band}` });
  }

  function newCategories(field) {
    if (!field.new_share) return "";
    return `${C.percent(field.new_share)}: ` +
      (field.new_categories || []).map((c) => `${c.value} ${C.percent(c.share)}`).join(", ");
  }

  function scoreChart(model) {
    const bins = model.score_bins || [];
    return C.groupedBars({
      title: `Score distribution, training rows and now, ${model.model} v${model.version}`,
      desc: "Share of leads per score range: the rows the model learnt from against the " +
        `leads it scored in the period (PSI ${C.number(model.score_psi, 3)}).`,
      categories: bins.map((b) => b.key),
      series: [
        { name: "training", color: "#94a3b8", values: bins.map((b) => ({ value: b.then })) },
        { name: "now", color: "#2563eb", values: bins.map((b) => ({ value: b.now })) },
      ],
    });
  }

  function renderDrift(body) {
    const models = body.models || [];
    if (!models.length) return empty("No lead-score model is live yet: nothing to compare");
    if (models.every((m) => !m.leads)) return empty("No leads scored in the last 7 days yet");
    const parts = [h("p", { class: "note", text: "Leads scored in the last 7 days against " +
      "each model's training rows. PSI below 0.1 is stable, 0.1-0.25 moving, above 0.25 " +
      `shifted; below ${body.min_leads ?? 100} leads there is no PSI.` })];
    if ((body.warnings || []).length) {
      parts.push(h("ul", { class: "warnings", "aria-label": "drift warnings" },
        body.warnings.map((w) => h("li", { text: w }))));
    }
    for (const model of models) {
      parts.push(h("h3", { text: `${model.model} v${model.version} · ` +
        `${C.number(model.leads)} leads` }));
      if (model.message) parts.push(h("p", { class: "note", text: model.message }));
      const fields = model.fields || [];
      if (!fields.length) continue;
      const pair = h("div", { class: "pair" });
      pair.append(C.table({
        caption: `The ${Math.min(fields.length, DRIFT_SHOWN)} fields that moved most, worst first`,
        columns: [
          { label: "field", value: (f) => f.field },
          { label: "PSI", numeric: true, value: (f) => driftBand(f.psi, f.band) },
          { label: "missing then → now", value: (f) =>
            `${C.percent(f.missing_then)} → ${C.percent(f.missing_now)}` },
          { label: "new categories", value: newCategories },
        ],
        rows: fields.slice(0, DRIFT_SHOWN),
        rowClass: (f) => (f.band === "shifted" ? "shifted" : null),
      }));
      if ((model.score_bins || []).length) pair.append(scoreChart(model));
      parts.push(pair);
    }
    return block(...parts);
  }

  function runnersUp(list) {
    if (!Array.isArray(list) || !list.length) return "-";
    return h("ul", { class: "runners" }, list.map((r) => h("li", {
      text: [r.rep_id, C.isNumber(r.fit) ? `fit ${r.fit.toFixed(2)}` : null,
        C.isNumber(r.expected_value) ? `EV ${C.number(r.expected_value)}` : null,
        C.isNumber(r.propensity) ? `P ${r.propensity.toFixed(2)}` : null]
        .filter(Boolean).join(" · "),
    })));
  }

  function renderRouted(body) {
    const rows = body.assignments || [];
    if (!rows.length) return empty("No routing decisions yet");
    return block(C.table({
      caption: `The ${rows.length} latest routing decisions, newest first`,
      columns: [
        { label: "assigned", value: (a) => when(a.assigned_at) },
        { label: "what", value: (a) => `${a.kind} ${a.subject_id}` },
        { label: "rep", value: (a) => a.rep_id },
        { label: "policy", value: (a) => words(a.policy) },
        { label: "P(choice)", numeric: true, value: (a) =>
          (C.isNumber(a.propensity) ? a.propensity.toFixed(2) : "n/a") + (a.explored ? " explored" : "") },
        { label: "objective", numeric: true, value: (a) => C.number(a.objective, 3) },
        { label: "runners-up (why not them)", value: (a) => runnersUp(a.runners_up) },
      ],
      rows,
    }));
  }

  function metricsText(metrics) {
    const names = Object.keys(metrics || {}).sort((a, b) =>
      ((METRIC_ORDER.indexOf(a) + 1) || 99) - ((METRIC_ORDER.indexOf(b) + 1) || 99) || a.localeCompare(b));
    return names.slice(0, 4).map((n) => `${n.replace(/^val_/, "")} ${C.number(metrics[n], 3)}`)
      .join(" · ") || "-";
  }

  // When the gate gave the version its alias, and the version it replaced.
  function promotedText(m) {
    if (!m.promoted_at) return null;
    const replaced = m.replaced_version && m.replaced_version !== "none"
      ? `replacing v${m.replaced_version}` : "the first";
    return `${m.promoted_at.replace("T", " ").replace("+00:00", " UTC")}, ${replaced}`;
  }

  function renderModels(body) {
    const rows = [
      ...(body.models || []).map((m) => ({ what: `lead score, ${m.channel}`, name: m.name,
        version: m.version, alias: m.alias, status: metricsText(m.metrics),
        promoted: promotedText(m) })),
      ...(body.missing || []).map((m) => ({ what: `lead score, ${m.channel}`, name: m.name,
        version: null, alias: m.alias, status: m.served_by ? `${m.reason}; ${m.served_by}` : m.reason })),
      ...(body.fit_models || []).map((m) => ({ what: words(m.role) + " fit", name: m.name,
        version: m.version, alias: m.alias, promoted: promotedText(m),
        status: m.version ? metricsText(m.metrics) : m.missing_reason || "not loaded" })),
    ];
    if (!rows.length) return empty("No models loaded yet: train them with `leadscore train`");
    const parts = [C.table({
      caption: "Model versions the service uses now, with their validation metrics",
      columns: [
        { label: "model", value: (r) => r.what },
        { label: "registered name", value: (r) => r.name },
        { label: "version", value: (r) => r.version ?? "none" },
        { label: "alias", value: (r) => r.alias },
        { label: "promoted", value: (r) => r.promoted || "-" },
        { label: "metrics, or why it is missing", value: (r) => r.status },
      ],
      rows, rowClass: (r) => (r.version ? null : "missing"),
    })];
    if ((body.errors || []).length) {
      parts.push(h("ul", { class: "warnings", "aria-label": "load errors" },
        body.errors.map((e) => h("li", { text: e }))));
    }
    return block(...parts);
  }

  const SECTIONS = [
    { id: "funnel-channel", key: "funnel_by_channel", what: "the funnel",
      load: (p) => getJson("v1/insights/funnel", { ...p, by: "channel" }),
      render: (d) => renderFunnel(d, "channel") },
    { id: "funnel-role", key: "funnel_by_role", what: "the funnel",
      load: (p) => getJson("v1/insights/funnel", { ...p, by: "role" }),
      render: (d) => renderFunnel(d, "role") },
    { id: "speed", key: "speed", what: "speed to lead",
      load: (p) => getJson("v1/insights/speed-to-lead", p), render: renderSpeed },
    { id: "workload", key: "workload", what: "the workload",
      load: () => getJson("v1/insights/workload"), render: renderWorkload },
    { id: "backtest", key: "backtest", what: "the backtest", load: loadBacktest,
      render: renderBacktest },
    { id: "drift", key: "drift", what: "the drift", load: () => getJson("v1/insights/drift"),
      render: renderDrift },
    { id: "routed", key: "routed", what: "the routing decisions",
      load: () => getJson("v1/insights/routed", { limit: 20 }), render: renderRouted },
    { id: "models", key: "models", what: "the models", load: () => getJson("v1/models"),
      render: renderModels },
  ];

  // ---- page ----------------------------------------------------------------------------

  function show(section, node, state) {
    const element = document.getElementById(section.id);
    const body = element.querySelector(".body");
    body.replaceChildren(node);
    body.setAttribute("aria-busy", "false");
    element.dataset.state = state || (node.classList.contains("empty") ? "empty" : "ready");
  }

  function draw(section, data) {
    let node;
    try {
      node = section.render(data);
    } catch (error) {
      show(section, h("p", { class: "error", role: "alert",
        text: `Could not draw ${section.what}: the data had an unexpected shape.` }), "error");
      console.error(error); // a bug in this page, not a service answer: make it visible
      return;
    }
    show(section, node);
  }

  function showError(section, error) {
    let text = `Could not load ${section.what}: ${error.message}`;
    if (error instanceof HttpError && error.status) {
      text = `Could not load ${section.what} (HTTP ${error.status}): ${error.message}`;
      if (error.status === 401 || error.status === 403) {
        text += ". Enter an API key with access above.";
        document.getElementById("access").hidden = false;
      } else if (error.status === 404) {
        text += ". This service does not offer it (yet).";
      }
    }
    show(section, h("p", { class: "error", role: "alert", text }), "error");
  }

  function periodOf(days) {
    const end = new Date();
    const start = new Date(end.getTime() - days * 24 * 3600 * 1000);
    return { start: start.toISOString(), end: end.toISOString() };
  }

  let generation = 0;

  async function refresh() {
    const current = ++generation;
    const days = Number(document.getElementById("period").value) || 90;
    const period = periodOf(days);
    document.body.dataset.ready = "false";
    document.getElementById("period-text").textContent =
      `Last ${days} days: ${day(period.start)} to ${day(period.end)} (UTC)`;
    await Promise.all(SECTIONS.map(async (section) => {
      let data;
      try {
        data = await section.load(period);
      } catch (error) {
        if (current === generation) showError(section, error);
        return;
      }
      if (current === generation) draw(section, data);
    }));
    if (current === generation) document.body.dataset.ready = "true";
  }

  function renderReport(data) {
    document.body.classList.add("report");
    const period = data.funnel_by_channel?.period || data.period;
    const parts = [];
    if (period) parts.push(`Period: ${day(period.start)} to ${day(period.end)} (UTC)`);
    if (data.generated_at) parts.push(`generated ${when(data.generated_at)}`);
    document.getElementById("period-text").textContent = parts.join(" · ");
    for (const section of SECTIONS) {
      const part = data[section.key];
      if (part === undefined || part === null) show(section, empty("Not part of this report"));
      else draw(section, part);
    }
    document.body.dataset.ready = "true";
  }

  function start() {
    const embedded = document.getElementById("report-data");
    if (embedded) {
      renderReport(JSON.parse(embedded.textContent));
      return;
    }
    const controls = document.getElementById("controls");
    document.getElementById("period").addEventListener("change", () => refresh());
    controls.addEventListener("submit", (event) => {
      event.preventDefault();
      const key = document.getElementById("api-key").value.trim();
      try {
        if (key) window.sessionStorage.setItem(KEY_STORAGE, key);
        else window.sessionStorage.removeItem(KEY_STORAGE);
      } catch {
        // without storage the key cannot outlive this page; nothing else to do
      }
      refresh();
    });
    refresh();
  }

  start();
})();
