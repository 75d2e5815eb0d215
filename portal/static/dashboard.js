// Draws the dashboard charts with Apache ECharts from the page's JSON data block
// (<script type="application/json" id="dashboard-data">); clicking a bar or a slice opens
// the list filtered to what it counts. No inline script: the CSP is script-src 'self'.
(function () {
  "use strict";
  const COLORS = {
    not_started: "#98a2b3", in_progress: "#f79009", submitted: "#2e90fa",
    accepted: "#12b76a", returned: "#f04438", overdue: "#b42318", open: "#2e90fa", done: "#12b76a",
    // districts (the operator's console)
    active: "#12b76a", provisioning: "#2e90fa", suspended: "#f79009", pending_deletion: "#b42318", purged: "#98a2b3",
  };
  const charts = {};
  window.portalCharts = charts; // for tests and for resizing

  // No animation for people (and tests) who ask for reduced motion.
  const still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  function init(el) { return echarts.init(el, null, { renderer: "canvas" }); }

  function open(url) { if (url) window.location.assign(url); }

  // The duty list filtered to one bar: period, department and status.
  function dutyList(data, departmentId, status) {
    const q = new URLSearchParams({ period: data.period, department: departmentId, status: status });
    return data.list + "?" + q.toString();
  }

  function departments(el, d, data) {
    const chart = init(el);
    chart.setOption({ animation: !still,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0, type: "scroll" },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", inverse: true, data: d.names, axisLabel: { width: 110, overflow: "truncate" } },
      series: d.series.map((s) => ({
        name: s.name, type: "bar", stack: "status", data: s.data, itemStyle: { color: COLORS[s.key] },
        emphasis: { focus: "series" },
      })),
    });
    chart.on("click", (p) => open(dutyList(data, d.ids[p.dataIndex], d.series[p.seriesIndex].key)));
    return chart;
  }

  function trend(el, d) {
    const chart = init(el);
    chart.setOption({ animation: !still,
      tooltip: { trigger: "axis", valueFormatter: (v) => v + "%" },
      legend: { top: 0 },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: d.periods },
      yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      series: [
        { name: d.names[0], type: "line", data: d.completion, itemStyle: { color: COLORS.accepted }, label: { show: true, formatter: "{c}%" } },
        { name: d.names[1], type: "line", data: d.signed_off, itemStyle: { color: COLORS.submitted }, lineStyle: { type: "dashed" } },
      ],
    });
    chart.on("click", (p) => open(d.links[p.dataIndex]));
    return chart;
  }

  function ranking(el, d, data) {
    const chart = init(el);
    chart.setOption({ animation: !still,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0 },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", inverse: true, data: d.names, axisLabel: { width: 110, overflow: "truncate" } },
      series: d.series.map((s) => ({ name: s.name, type: "bar", data: s.data, itemStyle: { color: COLORS[s.key] } })),
    });
    chart.on("click", (p) => open(dutyList(data, d.ids[p.dataIndex], d.series[p.seriesIndex].key)));
    return chart;
  }

  function pie(el, d) {
    const chart = init(el);
    chart.setOption({ animation: !still,
      tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
      legend: { bottom: 0, type: "scroll" },
      series: [{
        type: "pie", radius: ["38%", "65%"], center: ["50%", "45%"],
        label: { formatter: "{b}\n{c}" },
        data: d.items.map((i) => ({ name: i.name, value: i.value, itemStyle: { color: COLORS[i.key] } })),
      }],
    });
    chart.on("click", (p) => open(d.items[p.dataIndex].link));
    return chart;
  }

  // Failed sign-ins per day (the operator's console): bars, no link (counts only).
  function failures(el, d) {
    const chart = init(el);
    chart.setOption({ animation: !still,
      tooltip: { trigger: "axis" },
      grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: d.days.map((day) => day.slice(5)) },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ name: d.name, type: "bar", data: d.counts, itemStyle: { color: COLORS.returned } }],
    });
    return chart;
  }

  const DRAW = { departments, trend, ranking, actions: pie, progress: pie, status: pie, failures };

  document.addEventListener("DOMContentLoaded", () => {
    const block = document.getElementById("dashboard-data");
    if (!block || typeof echarts === "undefined") return;
    const data = JSON.parse(block.textContent);
    document.querySelectorAll("[data-chart]").forEach((el) => {
      const key = el.dataset.chart;
      if (data[key] && DRAW[key]) charts[key] = DRAW[key](el, data[key], data);
    });
    let timer = null;
    window.addEventListener("resize", () => {
      clearTimeout(timer);
      timer = setTimeout(() => Object.values(charts).forEach((c) => c.resize()), 120);
    });
  });
})();
