// The care coverage chart: one bar group per town (contact, doctor, festival, check-up %).
(function () {
  "use strict";
  function draw() {
    var el = document.getElementById("care-chart");
    var data = document.getElementById("care-data");
    if (!el || !data || typeof echarts === "undefined") return;
    var d = JSON.parse(data.textContent);
    var chart = echarts.init(el, null, { renderer: "canvas" });
    var keys = ["contact", "doctor", "festival", "checkup"];
    chart.setOption({
      tooltip: { trigger: "axis" },
      legend: { data: keys.map(function (k) { return d.labels[k]; }) },
      xAxis: { type: "category", data: d.towns },
      yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      series: keys.map(function (k) { return { name: d.labels[k], type: "bar", data: d.series[k] }; })
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  document.addEventListener("DOMContentLoaded", draw);
})();
