// Daiban dashboards: draw the charts from the JSON the server put in the page.
// Each <div class="chart" data-chart="ID"> reads <script type="application/json" id="ID">:
// {"kind": "bar" | "line" | "funnel", "categories": [...], "series": [{"name", "data"}]},
// or a project's plan: {"kind": "gantt", "days": [ISO date of each working-day offset],
// "today": offset | null, "rows": [{"name", "from", "to", "kind", "critical", ...}]}.
// The same numbers are in a table next to each chart, so nothing is lost without JavaScript.
(function () {
  "use strict";
  if (!window.echarts) { return; }

  // Bar colours of the plan: issued, under review, expected; red when the state is late.
  var GANTT_COLOURS = {done: "#198754", running: "#0d6efd", paused: "#6f42c1", planned: "#adb5bd"};
  var LATE = {overdue: true, missed: true};

  function gantt(spec) {
    var rows = spec.rows.slice().reverse();  // the first step on top
    var day = function (v) { return spec.days[Math.max(0, Math.min(spec.days.length - 1, v))]; };
    return {
      animation: false,  // drawn at once: printed and captured as it stands
      tooltip: {trigger: "item", formatter: function (p) {
        var r = rows[p.dataIndex];
        return echarts.format.encodeHTML(r.name) + "<br>" + r.start + " → " + r.finish +
          " (" + r.workdays + ")";
      }},
      grid: {left: 8, right: 16, top: 22, bottom: 28, containLabel: true},
      xAxis: {type: "value", min: 0, max: Math.max(spec.days.length - 1, 1), minInterval: 1,
              axisLabel: {formatter: function (v) { return (day(v) || "").slice(5); }}},
      yAxis: {type: "category", data: rows.map(function (r) { return r.name; }),
              axisLabel: {width: 120, overflow: "truncate"}},
      series: [
        {type: "bar", stack: "plan", silent: true, itemStyle: {color: "transparent"},
         data: rows.map(function (r) { return r.from; })},
        {type: "bar", stack: "plan", barMaxWidth: 18,
         data: rows.map(function (r) {
           return {value: Math.max(r.to - r.from, 0.4), itemStyle: {
             color: LATE[r.state] ? "#dc3545" : GANTT_COLOURS[r.kind],
             borderColor: r.critical ? "#dc3545" : "transparent", borderWidth: r.critical ? 2 : 0}};
         }),
         markLine: spec.today === null ? undefined : {
           symbol: "none", silent: true, label: {formatter: day(spec.today).slice(5)},
           lineStyle: {color: "#6c757d", type: "dashed"}, data: [{xAxis: spec.today}]}}
      ]
    };
  }

  function option(spec) {
    if (spec.kind === "gantt") { return gantt(spec); }
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
