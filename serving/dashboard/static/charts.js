/* Small SVG charts and tables for the leadscore dashboard: no library, no network.
 *
 * Every chart is a <figure> holding one <svg role="img"> with a <title> and a
 * <desc>, so screen readers get a summary; each bar also carries its own
 * <title> with the exact numbers (a tooltip on hover). Drawn marks carry the
 * class "bar" (and "whisker" for confidence intervals), which the browser
 * tests count.
 */
"use strict";

(function (global) {
  const SVG_NS = "http://www.w3.org/2000/svg";
  const PALETTE = ["#2563eb", "#d97706", "#059669", "#7c3aed", "#dc2626", "#0891b2", "#65a30d",
    "#db2777", "#475569", "#ca8a04"];
  let chartIds = 0;

  /** An SVG element with attributes and children (strings become text nodes). */
  function s(tag, attrs, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value !== null && value !== undefined) node.setAttribute(name, String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  /** An HTML element with attributes and children (strings become text nodes). */
  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = String(value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function color(index) {
    return PALETTE[index % PALETTE.length];
  }

  function isNumber(value) {
    return typeof value === "number" && Number.isFinite(value);
  }

  function percent(value, digits = 0) {
    return isNumber(value) ? `${(value * 100).toFixed(digits)}%` : "n/a";
  }

  function number(value, digits = 0) {
    return isNumber(value)
      ? value.toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: digits })
      : "n/a";
  }

  /** A round upper bound for an axis, so ticks land on readable values. */
  function niceMax(value) {
    if (!isNumber(value) || value <= 0) return 1;
    const magnitude = 10 ** Math.floor(Math.log10(value));
    for (const step of [1, 2, 2.5, 5, 10]) {
      if (step * magnitude >= value) return step * magnitude;
    }
    return 10 * magnitude;
  }

  /** The <svg> shell: accessible name and description, scalable to its container. */
  function frame(width, height, title, desc) {
    const id = `chart-${++chartIds}`;
    return s("svg", {
      viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img", class: "chart",
      "aria-labelledby": `${id}-title ${id}-desc`, preserveAspectRatio: "xMinYMin meet",
    }, s("title", { id: `${id}-title` }, title), s("desc", { id: `${id}-desc` }, desc));
  }

  function legend(series) {
    return h("ul", { class: "legend" }, series.map((item, i) =>
      h("li", {}, h("span", { class: `swatch ${item.className || ""}`, "data-color": item.color || color(i) }),
        item.name)));
  }

  /** Paint legend swatches from data attributes (a style attribute in markup would need
   * 'unsafe-inline' in the page's content security policy; the CSSOM does not). */
  function paintSwatches(root) {
    for (const swatch of root.querySelectorAll(".swatch[data-color]")) {
      swatch.style.background = swatch.dataset.color;
    }
  }

  function figure(svg, caption, series) {
    const node = h("figure", { class: "figure" }, svg, series ? legend(series) : null,
      caption ? h("figcaption", { text: caption }) : null);
    paintSwatches(node);
    return node;
  }

  /**
   * Vertical grouped bars. Each value is {value, low, high, marker, faint, outside, label};
   * low/high draw a whisker (a confidence interval), marker a dot (e.g. the shrunk rate).
   * options: {title, desc, caption, categories, series: [{name, values, color}], max, format}
   */
  function groupedBars(options) {
    const format = options.format || ((v) => percent(v, 1));
    const categories = options.categories;
    const series = options.series;
    const width = 680;
    const height = 270;
    const margin = { top: 14, right: 10, bottom: 40, left: 48 };
    const plotW = width - margin.left - margin.right;
    const plotH = height - margin.top - margin.bottom;
    let top = options.max;
    if (!isNumber(top)) {
      const seen = series.flatMap((item) => item.values)
        .flatMap((v) => (v ? [v.value, v.high, v.marker] : [])).filter(isNumber);
      top = niceMax(Math.max(0, ...seen));
    }
    const y = (v) => margin.top + plotH * (1 - Math.min(Math.max(v, 0), top) / top);
    const svg = frame(width, height, options.title, options.desc);
    const grid = s("g", { class: "grid" });
    // Percent ticks get as many decimals as a quarter of the axis needs (12.5%, not 13%).
    const digits = Math.max(0, Math.ceil(-Math.log10((top * 100) / 4) + 1e-9));
    const tick = options.format ? format : (v) => percent(v, (v * 100) % 1 ? digits : 0);
    for (let i = 0; i <= 4; i++) {
      const v = (top * i) / 4;
      grid.append(s("line", { x1: margin.left, x2: width - margin.right, y1: y(v), y2: y(v) }),
        s("text", { x: margin.left - 6, y: y(v) + 4, "text-anchor": "end" }, tick(v)));
    }
    svg.append(grid);
    const band = plotW / Math.max(categories.length, 1);
    const barW = (band * 0.78) / Math.max(series.length, 1);
    categories.forEach((category, c) => {
      const x0 = margin.left + band * c + band * 0.11;
      series.forEach((item, i) => {
        const point = item.values[c];
        const x = x0 + barW * i;
        if (!point || !isNumber(point.value)) {
          svg.append(s("text", { x: x + barW / 2, y: y(0) - 4, "text-anchor": "middle",
            class: "missing" }, "–"));
          return;
        }
        const interval = isNumber(point.low) && isNumber(point.high)
          ? ` (95% interval ${format(point.low)}–${format(point.high)})` : "";
        const marker = isNumber(point.marker) && point.markerName
          ? `; ${point.markerName} ${format(point.marker)}` : "";
        const classes = ["bar", point.faint ? "faint" : "", point.outside ? "outside" : ""];
        svg.append(s("rect", {
          class: classes.join(" ").trim(), x, y: y(point.value), width: Math.max(barW - 2, 1),
          height: Math.max(y(0) - y(point.value), 0.5), fill: item.color || color(i),
          "data-series": item.name, "data-category": category,
        }, s("title", {}, `${item.name}, ${category}: ${format(point.value)}${interval}${marker}` +
          (point.label ? ` – ${point.label}` : ""))));
        const mid = x + (barW - 2) / 2;
        if (isNumber(point.low) && isNumber(point.high)) {
          const cap = Math.min(barW / 4, 6);
          svg.append(s("path", {
            class: "whisker",
            d: `M${mid},${y(point.low)}V${y(point.high)}M${mid - cap},${y(point.low)}` +
              `h${2 * cap}M${mid - cap},${y(point.high)}h${2 * cap}`,
          }));
        }
        if (isNumber(point.marker)) {
          svg.append(s("circle", { class: "marker", cx: mid, cy: y(point.marker), r: 3 }));
        }
      });
      svg.append(s("text", { class: "category", x: margin.left + band * (c + 0.5),
        y: height - margin.bottom + 16, "text-anchor": "middle" }, category));
    });
    svg.append(s("line", { class: "axis", x1: margin.left, x2: width - margin.right,
      y1: y(0), y2: y(0) }));
    return figure(svg, options.caption, series);
  }

  /**
   * Horizontal bars of a quantity against its limit: a track as long as the limit, a bar as
   * long as the value (load against capacity). rows: [{label, value, limit, note, muted}]
   */
  function loadBars(options) {
    const rows = options.rows;
    const rowH = 22;
    const width = 680;
    const margin = { top: 8, right: 90, bottom: 8, left: 190 };
    const height = margin.top + margin.bottom + rowH * rows.length;
    const top = niceMax(Math.max(1, ...rows.flatMap((r) => [r.value, r.limit]).filter(isNumber)));
    const plotW = width - margin.left - margin.right;
    const x = (v) => margin.left + (plotW * Math.max(v, 0)) / top;
    const svg = frame(width, height, options.title, options.desc);
    rows.forEach((row, i) => {
      const y = margin.top + i * rowH;
      const over = isNumber(row.limit) && row.value > row.limit;
      svg.append(s("text", { class: `label${row.muted ? " muted" : ""}`, x: margin.left - 8,
        y: y + rowH / 2 + 4, "text-anchor": "end" }, row.label));
      if (isNumber(row.limit)) {
        svg.append(s("rect", { class: "track", x: margin.left, y: y + 4, height: rowH - 8,
          width: Math.max(x(row.limit) - margin.left, 0) }));
      }
      svg.append(s("rect", {
        class: `bar${over ? " over" : ""}${row.muted ? " muted" : ""}`, x: margin.left,
        y: y + 6, height: rowH - 12, width: Math.max(x(row.value) - margin.left, 0.5),
        "data-label": row.label,
      }, s("title", {}, `${row.label}: ${number(row.value)} of ${number(row.limit)}` +
        (row.note ? ` (${row.note})` : ""))));
      svg.append(s("text", { class: "value", x: width - margin.right + 8, y: y + rowH / 2 + 4 },
        `${number(row.value)} / ${number(row.limit)}`));
    });
    return figure(svg, options.caption, null);
  }

  /**
   * Percentile bars: per row a light bar to the 90th percentile and a dark one to the median.
   * rows: [{label, p50, p90, n}]; format(v) writes a value with its unit.
   */
  function percentileBars(options) {
    const rows = options.rows;
    const format = options.format || ((v) => number(v, 1));
    const rowH = 26;
    const width = 680;
    const margin = { top: 8, right: 150, bottom: 8, left: 190 };
    const height = margin.top + margin.bottom + rowH * rows.length;
    const top = niceMax(Math.max(0, ...rows.flatMap((r) => [r.p50, r.p90]).filter(isNumber)));
    const plotW = width - margin.left - margin.right;
    const x = (v) => margin.left + (plotW * Math.max(v, 0)) / top;
    const svg = frame(width, height, options.title, options.desc);
    rows.forEach((row, i) => {
      const y = margin.top + i * rowH;
      svg.append(s("text", { class: "label", x: margin.left - 8, y: y + rowH / 2 + 4,
        "text-anchor": "end" }, row.label));
      if (!isNumber(row.p50) && !isNumber(row.p90)) {
        svg.append(s("text", { class: "value", x: margin.left, y: y + rowH / 2 + 4 },
          "no data in this period"));
        return;
      }
      for (const [key, name] of [["p90", "90th percentile"], ["p50", "median"]]) {
        if (!isNumber(row[key])) continue;
        svg.append(s("rect", {
          class: `bar ${key}`, x: margin.left, y: y + (key === "p90" ? 4 : 8),
          height: rowH - (key === "p90" ? 8 : 16), width: Math.max(x(row[key]) - margin.left, 0.5),
          "data-label": row.label,
        }, s("title", {}, `${row.label}: ${name} ${format(row[key])} (n = ${number(row.n)})`)));
      }
      svg.append(s("text", { class: "value", x: width - margin.right + 8, y: y + rowH / 2 + 4 },
        `${format(row.p50)} · ${format(row.p90)} (n ${number(row.n)})`));
    });
    return figure(svg, options.caption, [
      { name: "median", className: "p50", color: "#1d4ed8" },
      { name: "90th percentile", className: "p90", color: "#93c5fd" },
    ]);
  }

  /** A table with a caption; columns: [{label, value(row) -> string|Node, numeric}]. */
  function table(options) {
    const head = h("tr", {}, options.columns.map((column) =>
      h("th", { scope: "col", class: column.numeric ? "num" : null, text: column.label })));
    const body = options.rows.map((row) => h("tr", { class: options.rowClass ? options.rowClass(row) : null },
      options.columns.map((column) => {
        const value = column.value(row);
        const cell = h("td", { class: column.numeric ? "num" : null });
        cell.append(value instanceof Node ? value : String(value ?? ""));
        return cell;
      })));
    return h("div", { class: "table-wrap" }, h("table", {},
      h("caption", { text: options.caption }), h("thead", {}, head), h("tbody", {}, body)));
  }

  global.LeadscoreCharts = {
    groupedBars, loadBars, percentileBars, table, h, color, percent, number, isNumber,
  };
})(window);
