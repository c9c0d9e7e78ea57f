// Daiban dashboards: draw the charts from the JSON the server put in the page.
// Each <div class="chart" data-chart="ID"> reads <script type="application/json" id="ID">:
// {"kind": "bar" | "line" | "funnel", "categories": [...], "series": [{"name", "data"}]}.
// The same numbers are in a table next to each chart, so nothing is lost without JavaScript.
(function () {
  "use strict";
  if (!window.echarts) { return; }

  function option(spec) {
    if (spec.kind === "funnel") {
      var s = spec.series[0] || {data: []};
      return {
        tooltip: {trigger: "item"},
        series: [{
          type: "funnel", name: s.name, sort: "none", left: "10%", width: "80%", minSize: "8%",
          label: {show: true, position: "inside", formatter: "{b}: {c}"},
          data: spec.categories.map(function (c, i) { return {name: c, value: s.data[i]}; })
        }]
      };
    }
    return {
      tooltip: {trigger: "axis"},
      legend: spec.series.length > 1 ? {top: 0} : undefined,
      grid: {left: 40, right: 16, top: spec.series.length > 1 ? 32 : 16, bottom: 56},
      // Every category is labelled (interval 0); few labels wrap, many are turned.
      xAxis: {type: "category", data: spec.categories, axisLabel: spec.categories.length > 6
        ? {interval: 0, rotate: 40}
        : {interval: 0, width: 64, overflow: "break", lineHeight: 14}},
      yAxis: {type: "value", minInterval: 1},
      series: spec.series.map(function (s) {
        return {type: spec.kind === "line" ? "line" : "bar", name: s.name, data: s.data};
      })
    };
  }

  var charts = [];
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var source = document.getElementById(el.getAttribute("data-chart"));
    if (!source) { return; }
    var chart = echarts.init(el, null, {renderer: "svg"});
    chart.setOption(option(JSON.parse(source.textContent)));
    el.setAttribute("data-rendered", "true");
    charts.push(chart);
  });
  window.addEventListener("resize", function () {
    charts.forEach(function (c) { c.resize(); });
  });
  // The park picker: choosing a park shows it (the button does the same without JavaScript).
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
})();
