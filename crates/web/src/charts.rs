//! Server-rendered SVG trend charts: one instrument's scores over time, its severity bands
//! shaded, level-of-care changes marked and an optional alert line.
//!
//! The output is one `<svg>` element inlined in a page served under a strict
//! Content-Security-Policy, so it must never contain a `style` attribute, a `<style>` element or
//! script: everything is drawn with presentation attributes, and each part carries a class name
//! (`band band-N`, `series`, `point`, `marker`, `threshold`, …) so a stylesheet can restyle it.
//! It must print legibly in black and white (bands differ by lightness and are labelled; level
//! changes and the alert line differ by dash pattern, not colour) and be deterministic (same
//! chart, same bytes), so it can be cached and snapshot-tested.
//!
//! Hand-written rather than drawn with `plotters`: its SVG backend also uses presentation
//! attributes, but it cannot put class names, `<title>`/`<desc>`, per-point tooltips or
//! `stroke-dasharray` on what it draws (dashes become many short lines) and it fixes a pixel size;
//! the string building needed here is short.

use std::borrow::Cow;
use std::fmt::Write as _;

use time::{Date, Duration, Month, OffsetDateTime, UtcOffset};

/// A shaded horizontal band `[from, to)`, e.g. 10..15 "moderate".
#[derive(Clone, Debug, PartialEq)]
pub struct Band {
    pub from: f64,
    pub to: f64,
    pub label: String,
}

/// One score.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    pub at: OffsetDateTime,
    pub value: f64,
}

/// A vertical marker, e.g. "Stepped down to 2.1".
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    pub at: OffsetDateTime,
    pub label: String,
}

/// What to draw. Dates are labelled in the UTC offset of the earliest point or marker, so callers
/// convert instants to the site's zone first.
#[derive(Clone, Debug, PartialEq)]
pub struct TrendChart {
    pub title: String,
    pub y_min: f64,
    pub y_max: f64,
    /// In increasing severity order: later bands are shaded darker.
    pub bands: Vec<Band>,
    /// In any order; NaN values are left out, values outside `y_min..=y_max` are drawn at the edge
    /// as hollow circles.
    pub points: Vec<Point>,
    pub markers: Vec<Marker>,
    /// A horizontal alert line and its label, e.g. `(10.0, "CIWA-Ar alert")`.
    pub threshold: Option<(f64, String)>,
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 320.0;
const LEFT: f64 = 44.0;
/// The band labels live to the right of the plot.
const RIGHT: f64 = WIDTH - 128.0;
const BOTTOM: f64 = HEIGHT - 26.0;
const TITLE_HEIGHT: f64 = 22.0;
const MARKER_ROW: f64 = 12.0;
const MARKER_ROWS: usize = 3;
/// Rough advance of one glyph at font-size 10, to keep stacked marker labels apart.
const CHAR_WIDTH: f64 = 5.8;
const MAX_X_TICKS: f64 = 9.0;
const BAND_LABEL_CHARS: usize = 20;
const MARKER_LABEL_CHARS: usize = 28;
/// A white outline behind text drawn over shading or lines, so it stays readable.
const HALO: &str = "stroke=\"#fff\" stroke-width=\"3\" stroke-linejoin=\"round\" paint-order=\"stroke\"";
/// Below this span, tooltips and the description give the time of day too.
const SHOW_TIME_BELOW_SECONDS: f64 = 14.0 * 86_400.0;

/// Renders `chart` as a complete `<svg>` element sized by its viewBox (it fills the width of its
/// container).
pub fn render(chart: &TrendChart) -> String {
    let mut points: Vec<&Point> = chart.points.iter().filter(|p| !p.value.is_nan()).collect();
    points.sort_by_key(|p| p.at);
    let mut markers: Vec<&Marker> = chart.markers.iter().collect();
    markers.sort_by_key(|m| m.at);
    let (y_min, y_max) = y_range(chart, &points);
    let time = TimeAxis::new(points.iter().map(|p| p.at).chain(markers.iter().map(|m| m.at)));
    let placed = place_marker_labels(&markers, time.as_ref());
    let rows = placed.iter().map(|p| p.row + 1).max().unwrap_or(0);
    let top = TITLE_HEIGHT + rows as f64 * MARKER_ROW + if rows > 0 { 4.0 } else { 8.0 };
    let y = |v: f64| BOTTOM - (v.clamp(y_min, y_max) - y_min) / (y_max - y_min) * (BOTTOM - top);

    let mut out = String::with_capacity(4096 + points.len() * 150 + markers.len() * 250);
    out.push_str(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 720 320\" role=\"img\" class=\"trend-chart\" \
         font-family=\"system-ui, sans-serif\" font-size=\"11\" fill=\"#111\">",
    );
    out.push_str("<title>");
    push_text(&mut out, &chart.title);
    out.push_str("</title><desc>");
    push_text(&mut out, &describe(chart, &points, &markers, time.as_ref()));
    out.push_str("</desc>");

    // Bands first, so everything else is drawn over them.
    out.push_str("<g class=\"bands\">");
    let count = chart.bands.len();
    for (i, band) in chart.bands.iter().enumerate() {
        let (lo, hi) = (band.from.max(y_min), band.to.min(y_max));
        if band.from.is_nan() || band.to.is_nan() || hi <= lo {
            continue;
        }
        let n = i + 1;
        let _ = write!(
            out,
            "<rect class=\"band band-{n}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>",
            C(LEFT),
            C(y(hi)),
            C(RIGHT - LEFT),
            C(y(lo) - y(hi)),
            Gray(i, count)
        );
        push_text(&mut out, &band.label);
        let _ = write!(out, " ({}–{})</title></rect>", V(band.from), V(band.to));
        let _ = write!(
            out,
            "<text class=\"band-label band-label-{n}\" x=\"{}\" y=\"{}\" dy=\"0.35em\">",
            C(RIGHT + 6.0),
            C((y(lo) + y(hi)) / 2.0)
        );
        push_text(&mut out, &shorten(&band.label, BAND_LABEL_CHARS));
        out.push_str("</text>");
    }
    out.push_str("</g>");

    // Y axis: gridlines and labels.
    out.push_str("<g class=\"axis y-axis\" font-size=\"10\">");
    let _ = write!(
        out,
        "<line x1=\"{l}\" y1=\"{}\" x2=\"{l}\" y2=\"{}\" stroke=\"#333\"/>",
        C(top),
        C(BOTTOM),
        l = C(LEFT)
    );
    for v in y_ticks(y_min, y_max) {
        let at = C(y(v));
        let _ = write!(
            out,
            "<line class=\"grid\" x1=\"{}\" y1=\"{at}\" x2=\"{}\" y2=\"{at}\" stroke=\"#000\" stroke-opacity=\"0.15\"/>",
            C(LEFT - 4.0),
            C(RIGHT)
        );
        let _ =
            write!(out, "<text x=\"{}\" y=\"{at}\" dy=\"0.35em\" text-anchor=\"end\">{}</text>", C(LEFT - 6.0), V(v));
    }
    out.push_str("</g>");

    // X axis: time.
    out.push_str("<g class=\"axis x-axis\" font-size=\"10\">");
    let _ = write!(
        out,
        "<line x1=\"{}\" y1=\"{b}\" x2=\"{}\" y2=\"{b}\" stroke=\"#333\"/>",
        C(LEFT),
        C(RIGHT),
        b = C(BOTTOM)
    );
    if let Some(time) = &time {
        for (at, label) in time.ticks() {
            let x = C(time.x(at));
            let _ = write!(
                out,
                "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"#333\"/>",
                C(BOTTOM),
                C(BOTTOM + 4.0)
            );
            let _ = write!(out, "<text x=\"{x}\" y=\"{}\" text-anchor=\"middle\">{label}</text>", C(BOTTOM + 15.0));
        }
    }
    out.push_str("</g>");

    if let Some((value, label)) = &chart.threshold
        && *value >= y_min
        && *value <= y_max
    {
        let at = C(y(*value));
        let _ = write!(
            out,
            "<g class=\"threshold\"><line x1=\"{}\" y1=\"{at}\" x2=\"{}\" y2=\"{at}\" stroke=\"#000\" stroke-width=\"1.5\" stroke-dasharray=\"9 3 2 3\"/>",
            C(LEFT),
            C(RIGHT)
        );
        // A white halo keeps the label readable over the band shading and the gridlines.
        let _ = write!(
            out,
            "<text class=\"threshold-label\" x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"10\" {HALO}>",
            C(RIGHT - 4.0),
            C(y(*value) - 4.0)
        );
        push_text(&mut out, label);
        push_text(&mut out, &format!(" ({})", V(*value)));
        out.push_str("</text></g>");
    }

    if let Some(time) = &time {
        // Lines first, then every label with a white halo, so no line crosses a label.
        out.push_str("<g class=\"markers\" font-size=\"10\">");
        for (marker, place) in markers.iter().zip(&placed) {
            let baseline = top - 4.0 - place.row as f64 * MARKER_ROW;
            let _ = write!(
                out,
                "<line class=\"marker marker-line\" x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"#333\" stroke-width=\"1.2\" stroke-dasharray=\"4 3\"><title>",
                C(baseline - 9.0),
                C(BOTTOM),
                x = C(place.x)
            );
            push_text(&mut out, &marker.label);
            push_text(&mut out, &format!(" ({})", stamp(marker.at, time.offset, time.show_time)));
            out.push_str("</title></line>");
        }
        for place in &placed {
            let baseline = top - 4.0 - place.row as f64 * MARKER_ROW;
            let (tx, anchor) = if place.end_anchored { (place.x - 3.0, "end") } else { (place.x + 3.0, "start") };
            let _ = write!(
                out,
                "<text class=\"marker-label\" x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\" {HALO}>",
                C(tx),
                C(baseline)
            );
            push_text(&mut out, &place.text);
            out.push_str("</text>");
        }
        out.push_str("</g>");
    }

    match &time {
        Some(time) if !points.is_empty() => {
            if points.len() > 1 {
                out.push_str("<polyline class=\"series\" fill=\"none\" stroke=\"#111\" stroke-width=\"2\" stroke-linejoin=\"round\" points=\"");
                for (i, p) in points.iter().enumerate() {
                    let _ = write!(out, "{}{},{}", if i == 0 { "" } else { " " }, C(time.x(p.at)), C(y(p.value)));
                }
                out.push_str("\"/>");
            }
            // Filled dots; a score outside the range is drawn hollow at the edge it passed.
            out.push_str("<g class=\"points\" fill=\"#111\" stroke=\"#fff\" stroke-width=\"1.5\">");
            for p in &points {
                const HOLLOW: &str = " fill=\"#fff\" stroke=\"#111\"";
                let (class, colours, note) = if p.value > y_max {
                    ("point out-of-range", HOLLOW, " (above the chart)")
                } else if p.value < y_min {
                    ("point out-of-range", HOLLOW, " (below the chart)")
                } else {
                    ("point", "", "")
                };
                let _ = write!(
                    out,
                    "<circle class=\"{class}\" cx=\"{}\" cy=\"{}\" r=\"3.5\"{colours}><title>{}: {}{note}</title></circle>",
                    C(time.x(p.at)),
                    C(y(p.value)),
                    stamp(p.at, time.offset, time.show_time),
                    V(p.value)
                );
            }
            out.push_str("</g>");
        }
        _ => {
            let _ = write!(
                out,
                "<text class=\"empty\" x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"13\" {HALO}>No scores yet</text>",
                C((LEFT + RIGHT) / 2.0),
                C((top + BOTTOM) / 2.0)
            );
        }
    }

    let _ =
        write!(out, "<text class=\"chart-title\" x=\"{}\" y=\"16\" font-size=\"13\" font-weight=\"bold\">", C(LEFT));
    push_text(&mut out, &chart.title);
    out.push_str("</text></svg>");
    out
}

/// The vertical range: the chart's own when it is usable, else one that holds the data.
fn y_range(chart: &TrendChart, points: &[&Point]) -> (f64, f64) {
    if chart.y_min.is_finite() && chart.y_max.is_finite() && chart.y_min != chart.y_max {
        return (chart.y_min.min(chart.y_max), chart.y_min.max(chart.y_max));
    }
    let values = points.iter().map(|p| p.value).chain(chart.bands.iter().flat_map(|b| [b.from, b.to]));
    let (lo, hi) =
        values.filter(|v| v.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo < hi {
        (lo, hi)
    } else if lo.is_finite() {
        (lo - 1.0, lo + 1.0)
    } else {
        (0.0, 1.0)
    }
}

/// Round numbers inside the range: steps of 1, 2, 2.5 or 5 times a power of ten, at most about six.
fn y_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let raw = (hi - lo) / 6.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].into_iter().map(|m| m * magnitude).find(|s| *s >= raw).unwrap_or(raw);
    if !step.is_finite() || step <= 0.0 {
        return Vec::new();
    }
    let first = (lo / step).ceil();
    (0..50).map(|i| (first + f64::from(i)) * step).take_while(|v| *v <= hi + step * 1e-9).collect()
}

/// Maps instants to x, with a little room either side so edge points clear the axis.
struct TimeAxis {
    start: OffsetDateTime,
    end: OffsetDateTime,
    seconds: f64,
    /// Dates are shown in this offset (the earliest instant's).
    offset: UtcOffset,
    show_time: bool,
}

impl TimeAxis {
    fn new(instants: impl Iterator<Item = OffsetDateTime>) -> Option<Self> {
        let (first, last) = instants.fold(None, |acc: Option<(OffsetDateTime, OffsetDateTime)>, t| match acc {
            None => Some((t, t)),
            Some((lo, hi)) => Some((lo.min(t), hi.max(t))),
        })?;
        let span = (last - first).as_seconds_f64();
        // One instant (or all on the same one): a day centred on it.
        let pad = if span > 0.0 { span * 0.03 } else { 43_200.0 };
        let pad = Duration::checked_seconds_f64(pad).unwrap_or(Duration::ZERO);
        let start = first.checked_sub(pad).unwrap_or(first);
        let end = last.checked_add(pad).unwrap_or(last);
        let seconds = (end - start).as_seconds_f64();
        if seconds <= 0.0 {
            return None;
        }
        Some(Self { start, end, seconds, offset: first.offset(), show_time: span < SHOW_TIME_BELOW_SECONDS })
    }

    fn x(&self, at: OffsetDateTime) -> f64 {
        LEFT + (at - self.start).as_seconds_f64() / self.seconds * (RIGHT - LEFT)
    }

    /// Tick instants and their labels, at the smallest calendar step giving at most `MAX_X_TICKS`.
    fn ticks(&self) -> Vec<(OffsetDateTime, String)> {
        let step = STEPS.into_iter().find(|s| self.seconds / s.seconds() <= MAX_X_TICKS).unwrap_or(Step::Years(1000));
        let start = local(self.start, self.offset);
        let mut ticks = Vec::new();
        let Some(mut t) = step.floor(start) else { return ticks };
        for _ in 0..1200 {
            if t >= start && step.aligned(t) {
                break;
            }
            let Some(next) = step.unit_after(t) else { return ticks };
            t = next;
        }
        let mut previous: Option<OffsetDateTime> = None;
        while t <= self.end && ticks.len() < 32 {
            ticks.push((t, step.label(t, previous)));
            previous = Some(t);
            let Some(next) = step.advance(t) else { break };
            t = next;
        }
        ticks
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Hours(i64),
    Days(i64),
    Weeks(i64),
    Months(i32),
    Years(i32),
}

const STEPS: [Step; 21] = [
    Step::Hours(1),
    Step::Hours(2),
    Step::Hours(3),
    Step::Hours(6),
    Step::Hours(12),
    Step::Days(1),
    Step::Days(2),
    Step::Weeks(1),
    Step::Weeks(2),
    Step::Months(1),
    Step::Months(2),
    Step::Months(3),
    Step::Months(6),
    Step::Years(1),
    Step::Years(2),
    Step::Years(5),
    Step::Years(10),
    Step::Years(25),
    Step::Years(50),
    Step::Years(100),
    Step::Years(1000),
];

impl Step {
    fn seconds(self) -> f64 {
        match self {
            Step::Hours(n) => n as f64 * 3600.0,
            Step::Days(n) => n as f64 * 86_400.0,
            Step::Weeks(n) => n as f64 * 604_800.0,
            Step::Months(n) => f64::from(n) * 2_629_746.0,
            Step::Years(n) => f64::from(n) * 31_556_952.0,
        }
    }

    /// The start of the unit holding `t`: its midnight, Monday or first of the month or year.
    fn floor(self, t: OffsetDateTime) -> Option<OffsetDateTime> {
        let d = t.date();
        let start = match self {
            Step::Hours(_) | Step::Days(_) => d,
            // Julian day numbers are Mondays exactly when divisible by 7.
            Step::Weeks(_) => d.checked_sub(Duration::days(i64::from(d.to_julian_day().rem_euclid(7))))?,
            Step::Months(_) => d.replace_day(1).ok()?,
            Step::Years(_) => Date::from_calendar_date(d.year(), Month::January, 1).ok()?,
        };
        Some(start.midnight().assume_offset(t.offset()))
    }

    /// Whether `t` (a unit start) is on the step's grid, e.g. every other Monday.
    fn aligned(self, t: OffsetDateTime) -> bool {
        let day = i64::from(t.date().to_julian_day());
        match self {
            Step::Hours(n) => i64::from(t.hour()).rem_euclid(n) == 0,
            Step::Days(n) => day.rem_euclid(n) == 0,
            Step::Weeks(n) => day.div_euclid(7).rem_euclid(n) == 0,
            Step::Months(n) => (i32::from(u8::from(t.month())) - 1).rem_euclid(n) == 0,
            Step::Years(n) => t.year().rem_euclid(n) == 0,
        }
    }

    fn unit_after(self, t: OffsetDateTime) -> Option<OffsetDateTime> {
        match self {
            Step::Hours(_) => t.checked_add(Duration::HOUR),
            Step::Days(_) => t.checked_add(Duration::DAY),
            Step::Weeks(_) => t.checked_add(Duration::WEEK),
            Step::Months(_) => add_months(t, 1),
            Step::Years(_) => add_months(t, 12),
        }
    }

    fn advance(self, t: OffsetDateTime) -> Option<OffsetDateTime> {
        match self {
            Step::Hours(n) => t.checked_add(Duration::hours(n)),
            Step::Days(n) => t.checked_add(Duration::days(n)),
            Step::Weeks(n) => t.checked_add(Duration::weeks(n)),
            Step::Months(n) => add_months(t, n),
            Step::Years(n) => add_months(t, n.checked_mul(12)?),
        }
    }

    /// Hours show the time, and the date at midnight; days and weeks show the day and month, with
    /// the year on the first tick and when it changes; months show the year on the first tick and
    /// in January.
    fn label(self, t: OffsetDateTime, previous: Option<OffsetDateTime>) -> String {
        let new_year = previous.is_none_or(|p| p.year() != t.year());
        match self {
            Step::Hours(_) if t.hour() != 0 || t.minute() != 0 => format!("{:02}:{:02}", t.hour(), t.minute()),
            Step::Hours(_) => format!("{} {}", t.day(), month_abbr(t.month())),
            Step::Days(_) | Step::Weeks(_) if new_year => format!("{} {} {}", t.day(), month_abbr(t.month()), t.year()),
            Step::Days(_) | Step::Weeks(_) => format!("{} {}", t.day(), month_abbr(t.month())),
            Step::Months(_) if previous.is_none() || t.month() == Month::January => {
                format!("{} {}", month_abbr(t.month()), t.year())
            }
            Step::Months(_) => month_abbr(t.month()).to_owned(),
            Step::Years(_) => t.year().to_string(),
        }
    }
}

/// `t` (a first of the month at midnight) `n` months later.
fn add_months(t: OffsetDateTime, n: i32) -> Option<OffsetDateTime> {
    let index = t.year().checked_mul(12)? + i32::from(u8::from(t.month())) - 1 + n;
    let month = Month::try_from(u8::try_from(index.rem_euclid(12) + 1).ok()?).ok()?;
    let date = Date::from_calendar_date(index.div_euclid(12), month, 1).ok()?;
    Some(date.midnight().assume_offset(t.offset()))
}

fn local(t: OffsetDateTime, offset: UtcOffset) -> OffsetDateTime {
    t.checked_to_offset(offset).unwrap_or(t)
}

fn month_abbr(m: Month) -> &'static str {
    match m {
        Month::January => "Jan",
        Month::February => "Feb",
        Month::March => "Mar",
        Month::April => "Apr",
        Month::May => "May",
        Month::June => "Jun",
        Month::July => "Jul",
        Month::August => "Aug",
        Month::September => "Sep",
        Month::October => "Oct",
        Month::November => "Nov",
        Month::December => "Dec",
    }
}

/// `2026-01-05`, or `2026-01-05 08:00` when the chart spans hours or days.
fn stamp(at: OffsetDateTime, offset: UtcOffset, with_time: bool) -> String {
    let t = local(at, offset);
    let date = format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day());
    if with_time { format!("{date} {:02}:{:02}", t.hour(), t.minute()) } else { date }
}

/// Where a marker's label goes: up to `MARKER_ROWS` stacked rows above the plot, the first row
/// (nearest the plot) whose labels it does not overlap.
struct PlacedLabel<'a> {
    x: f64,
    row: usize,
    /// Near the right edge the label ends at the line instead of starting there.
    end_anchored: bool,
    text: Cow<'a, str>,
}

fn place_marker_labels<'a>(markers: &[&'a Marker], time: Option<&TimeAxis>) -> Vec<PlacedLabel<'a>> {
    let Some(time) = time else { return Vec::new() };
    let mut row_ends = [f64::NEG_INFINITY; MARKER_ROWS];
    markers
        .iter()
        .map(|m| {
            let x = time.x(m.at);
            let text = shorten(&m.label, MARKER_LABEL_CHARS);
            let width = text.chars().count() as f64 * CHAR_WIDTH;
            let end_anchored = x + 3.0 + width > WIDTH - 2.0;
            let (from, to) = if end_anchored { (x - 3.0 - width, x) } else { (x, x + 3.0 + width) };
            let row = (0..MARKER_ROWS).find(|r| row_ends[*r] + 4.0 <= from).unwrap_or_else(|| {
                // Every row is taken here: reuse the one that frees up first.
                (0..MARKER_ROWS).fold(0, |best, r| if row_ends[r] < row_ends[best] { r } else { best })
            });
            row_ends[row] = row_ends[row].max(to);
            PlacedLabel { x, row, end_anchored, text }
        })
        .collect()
}

/// The `<desc>`: what a sighted reader takes from the chart at a glance.
fn describe(chart: &TrendChart, points: &[&Point], markers: &[&Marker], time: Option<&TimeAxis>) -> String {
    let (offset, with_time) = time.map_or((UtcOffset::UTC, false), |t| (t.offset, t.show_time));
    let mut out = match (points.first(), points.last()) {
        (Some(first), Some(last)) => {
            let (from, to) = (stamp(first.at, offset, with_time), stamp(last.at, offset, with_time));
            let n = points.len();
            let noun = if n == 1 { "score" } else { "scores" };
            let mut s =
                if from == to { format!("{n} {noun} on {from}") } else { format!("{n} {noun} from {from} to {to}") };
            let _ = write!(s, "; latest {}", V(last.value));
            if let Some(band) = band_of(&chart.bands, last.value) {
                let _ = write!(s, " ({})", band.label);
            }
            s
        }
        _ => "No scores yet".to_owned(),
    };
    if let Some((value, label)) = &chart.threshold {
        let _ = write!(out, "; {label} at {}", V(*value));
    }
    for (i, m) in markers.iter().enumerate() {
        let _ = write!(
            out,
            "{}{} on {}",
            if i == 0 { "; marked: " } else { ", " },
            m.label,
            stamp(m.at, offset, with_time)
        );
    }
    out.push('.');
    out
}

/// The band holding `value`; the top band holds its upper edge too.
fn band_of(bands: &[Band], value: f64) -> Option<&Band> {
    bands.iter().find(|b| b.from <= value && value < b.to).or_else(|| bands.iter().rev().find(|b| b.to == value))
}

fn shorten(s: &str, max: usize) -> Cow<'_, str> {
    if s.chars().count() <= max {
        Cow::Borrowed(s)
    } else {
        let mut short: String = s.chars().take(max - 1).collect();
        short.push('…');
        Cow::Owned(short)
    }
}

/// Appends `s` escaped for element content and attribute values; characters XML cannot carry
/// (most control characters) become U+FFFD so the output always parses.
fn push_text(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}' => {
                out.push(c)
            }
            _ => out.push('\u{FFFD}'),
        }
    }
}

/// A gray for band `i` of `n`: lighter for milder bands, so they stay apart in black-and-white print.
struct Gray(usize, usize);

impl std::fmt::Display for Gray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (lightest, darkest) = (248.0, 188.0);
        let share = if self.1 > 1 { self.0 as f64 / (self.1 - 1) as f64 } else { 0.0 };
        let level = (lightest - share.min(1.0) * (lightest - darkest)).round() as u8;
        write!(f, "#{level:02x}{level:02x}{level:02x}")
    }
}

/// A coordinate, to one decimal at most.
struct C(f64);

impl std::fmt::Display for C {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        trimmed(f, self.0, 10)
    }
}

/// A value, to two decimals at most.
struct V(f64);

impl std::fmt::Display for V {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        trimmed(f, self.0, 100)
    }
}

/// Writes `v` rounded to 1 / `scale` (10 or 100), without trailing zeros or a negative zero.
/// Integer arithmetic rather than float formatting: it is most of the work of a render.
fn trimmed(f: &mut std::fmt::Formatter<'_>, v: f64, scale: u64) -> std::fmt::Result {
    let scaled = (v * scale as f64).round();
    if !scaled.is_finite() || scaled.abs() >= 9.0e15 {
        return write!(f, "{v}");
    }
    let n = scaled as i64;
    let (whole, mut frac) = (n.unsigned_abs() / scale, n.unsigned_abs() % scale);
    if n < 0 {
        f.write_str("-")?;
    }
    write!(f, "{whole}")?;
    if frac == 0 {
        return Ok(());
    }
    let mut digits = if scale == 100 { 2 } else { 1 };
    while frac % 10 == 0 {
        frac /= 10;
        digits -= 1;
    }
    write!(f, ".{frac:0digits$}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn phq9_bands() -> Vec<Band> {
        [
            (0.0, 5.0, "minimal"),
            (5.0, 10.0, "mild"),
            (10.0, 15.0, "moderate"),
            (15.0, 20.0, "moderately severe"),
            (20.0, 27.0, "severe"),
        ]
        .into_iter()
        .map(|(from, to, label)| Band { from, to, label: label.to_owned() })
        .collect()
    }

    fn weekly(n: i64) -> Vec<Point> {
        (0..n)
            .map(|i| Point { at: datetime!(2026-01-05 09:00 UTC) + Duration::weeks(i), value: (20 - i % 15) as f64 })
            .collect()
    }

    fn chart(points: Vec<Point>, markers: Vec<Marker>) -> TrendChart {
        TrendChart {
            title: "PHQ-9".to_owned(),
            y_min: 0.0,
            y_max: 27.0,
            bands: phq9_bands(),
            points,
            markers,
            threshold: None,
        }
    }

    /// Parses the output as XML and checks the CSP rules on every element.
    fn parse(svg: &str) -> roxmltree::Document<'_> {
        let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("not well-formed XML: {e}\n{svg}"));
        for node in doc.descendants().filter(|n| n.is_element()) {
            let name = node.tag_name().name();
            assert!(name != "style" && name != "script" && name != "foreignObject", "<{name}> in {svg}");
            assert!(node.attribute("style").is_none(), "style attribute on <{name}>");
            for a in node.attributes() {
                assert!(!a.name().starts_with("on"), "event handler {} on <{name}>", a.name());
            }
        }
        doc
    }

    fn count(doc: &roxmltree::Document<'_>, class: &str) -> usize {
        doc.descendants().filter(|n| n.attribute("class").is_some_and(|c| c.split(' ').any(|c| c == class))).count()
    }

    fn texts(doc: &roxmltree::Document<'_>) -> Vec<String> {
        doc.descendants().filter(|n| n.has_tag_name("text")).map(|n| n.text().unwrap_or_default().to_owned()).collect()
    }

    #[test]
    fn full_chart_is_accessible_csp_safe_xml() {
        let mut c = chart(
            weekly(12),
            vec![Marker { at: datetime!(2026-02-02 00:00 UTC), label: "Stepped down to 2.1".into() }],
        );
        c.threshold = Some((10.0, "Review".into()));
        let svg = render(&c);
        assert!(!svg.contains("style"), "{svg}");
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"));
        let doc = parse(&svg);
        let root = doc.root_element();
        assert_eq!(root.attribute("role"), Some("img"));
        assert_eq!(root.attribute("viewBox"), Some("0 0 720 320"));
        assert!(root.attribute("width").is_none() && root.attribute("height").is_none());
        let first: Vec<_> = root.children().filter(|n| n.is_element()).take(2).map(|n| n.tag_name().name()).collect();
        assert_eq!(first, ["title", "desc"]);
        let desc = root.children().find(|n| n.has_tag_name("desc")).and_then(|n| n.text()).unwrap_or_default();
        assert_eq!(
            desc,
            "12 scores from 2026-01-05 to 2026-03-23; latest 9 (mild); Review at 10; marked: Stepped down to 2.1 on 2026-02-02."
        );

        assert_eq!(count(&doc, "band"), 5);
        assert_eq!(count(&doc, "band-5"), 1);
        assert_eq!(count(&doc, "series"), 1);
        assert_eq!(count(&doc, "point"), 12);
        assert_eq!(count(&doc, "marker"), 1);
        assert_eq!(count(&doc, "threshold"), 1);
        let t = texts(&doc);
        for label in
            ["minimal", "mild", "moderate", "moderately severe", "severe", "Stepped down to 2.1", "Review (10)"]
        {
            assert!(t.iter().any(|s| s == label), "{label} missing from {t:?}");
        }
        // Every point has a tooltip with its date and value.
        let tips: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("circle"))
            .filter_map(|n| n.first_element_child())
            .filter_map(|n| n.text())
            .collect();
        assert_eq!(tips.first(), Some(&"2026-01-05: 20"));
        assert_eq!(tips.len(), 12);
        // Bands get darker with severity; the series is a dark solid line; dashes tell lines apart.
        let fills: Vec<_> =
            doc.descendants().filter(|n| count_class(n, "band")).filter_map(|n| n.attribute("fill")).collect();
        assert_eq!(fills, ["#f8f8f8", "#e9e9e9", "#dadada", "#cbcbcb", "#bcbcbc"]);
        let series = doc.descendants().find(|n| count_class(n, "series"));
        assert_eq!(series.and_then(|n| n.attribute("stroke-dasharray")), None);
        let marker_line = doc.descendants().find(|n| count_class(n, "marker-line"));
        assert_eq!(marker_line.and_then(|n| n.attribute("stroke-dasharray")), Some("4 3"));
        let threshold_line =
            doc.descendants().find(|n| count_class(n, "threshold")).and_then(|g| g.first_element_child());
        assert_eq!(threshold_line.and_then(|n| n.attribute("stroke-dasharray")), Some("9 3 2 3"));
    }

    fn count_class(n: &roxmltree::Node<'_, '_>, class: &str) -> bool {
        n.attribute("class").is_some_and(|c| c.split(' ').any(|c| c == class))
    }

    #[test]
    fn escapes_every_text() {
        let nasty = "<script>alert(\"x\")</script> & 'q' \u{0}\u{1b}";
        let c = TrendChart {
            title: nasty.into(),
            bands: vec![Band { from: 0.0, to: 10.0, label: nasty.into() }],
            markers: vec![Marker { at: datetime!(2026-01-06 00:00 UTC), label: nasty.into() }],
            threshold: Some((5.0, nasty.into())),
            ..chart(weekly(2), vec![])
        };
        let svg = render(&c);
        assert!(!svg.contains("<script") && !svg.contains("\"x\"") && !svg.contains("'q'"), "{svg}");
        assert!(svg.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;"));
        let doc = parse(&svg);
        let title = doc.root_element().first_element_child().and_then(|n| n.text());
        assert_eq!(title, Some("<script>alert(\"x\")</script> & 'q' \u{FFFD}\u{FFFD}"));
        assert!(texts(&doc).iter().any(|t| t == "<script>alert(\"x\")</script> & 'q' \u{FFFD}\u{FFFD}"));
    }

    #[test]
    fn no_points_says_so() {
        let svg = render(&chart(vec![], vec![]));
        let doc = parse(&svg);
        assert!(texts(&doc).iter().any(|t| t == "No scores yet"));
        assert_eq!(count(&doc, "point"), 0);
        assert_eq!(count(&doc, "series"), 0);
        assert_eq!(count(&doc, "band"), 5);
        assert!(svg.contains("<desc>No scores yet.</desc>"));

        // Markers alone still draw, on their own time range.
        let marker = Marker { at: datetime!(2026-01-05 00:00 UTC), label: "Admitted to 3.7".into() };
        let doc_svg = render(&chart(vec![], vec![marker]));
        let doc = parse(&doc_svg);
        assert_eq!(count(&doc, "marker"), 1);
        assert!(texts(&doc).iter().any(|t| t == "No scores yet"));
    }

    #[test]
    fn one_point_and_same_instant_points() {
        let one = render(&chart(weekly(1), vec![]));
        let doc = parse(&one);
        assert_eq!(count(&doc, "point"), 1);
        assert_eq!(count(&doc, "series"), 0);
        assert!(one.contains("<desc>1 score on 2026-01-05 09:00; latest 20 (severe).</desc>"), "{one}");
        let x = doc.descendants().find(|n| n.has_tag_name("circle")).and_then(|n| n.attribute("cx"));
        assert_eq!(x, Some("318"), "a lone point sits in the middle of the plot");

        let at = datetime!(2026-01-05 09:00 UTC);
        let same = render(&chart(vec![Point { at, value: 3.0 }, Point { at, value: 4.0 }], vec![]));
        let doc = parse(&same);
        assert_eq!(count(&doc, "point"), 2);
        assert!(same.contains("2 scores on 2026-01-05 09:00; latest 4 (minimal)"));
        assert!(!same.contains("NaN") && !same.contains("inf"));
    }

    #[test]
    fn out_of_range_values_are_clamped_and_said() {
        let svg = render(&chart(
            vec![
                Point { at: datetime!(2026-01-05 00:00 UTC), value: 31.0 },
                Point { at: datetime!(2026-01-12 00:00 UTC), value: -2.5 },
                Point { at: datetime!(2026-01-19 00:00 UTC), value: f64::NAN },
                Point { at: datetime!(2026-01-26 00:00 UTC), value: 27.0 },
            ],
            vec![],
        ));
        let doc = parse(&svg);
        let circles: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("circle")).collect();
        assert_eq!(circles.len(), 3, "NaN is left out");
        let cy: Vec<f64> = circles.iter().filter_map(|n| n.attribute("cy")?.parse().ok()).collect();
        assert_eq!(cy, [30.0, BOTTOM, 30.0]);
        assert_eq!(count(&doc, "out-of-range"), 2);
        let fills: Vec<_> = circles.iter().map(|n| n.attribute("fill")).collect();
        assert_eq!(
            fills,
            [Some("#fff"), Some("#fff"), None],
            "clamped scores are hollow, others take the group's fill"
        );
        assert!(svg.contains("2026-01-05: 31 (above the chart)") && svg.contains("2026-01-12: -2.5 (below the chart)"));
        assert!(svg.contains("latest 27 (severe)"), "the top band holds its upper edge");
    }

    #[test]
    fn markers_outside_the_scores_widen_the_range() {
        let markers = vec![
            Marker { at: datetime!(2025-12-01 00:00 UTC), label: "Admitted to 3.7".into() },
            Marker {
                at: datetime!(2026-06-01 00:00 UTC),
                label: "Discharged to outpatient care, follow-up in clinic".into(),
            },
        ];
        let svg = render(&chart(weekly(4), markers));
        let doc = parse(&svg);
        let xs: Vec<f64> = doc
            .descendants()
            .filter(|n| count_class(n, "marker-line"))
            .filter_map(|n| n.attribute("x1")?.parse().ok())
            .collect();
        let points: Vec<f64> = doc
            .descendants()
            .filter(|n| n.has_tag_name("circle"))
            .filter_map(|n| n.attribute("cx")?.parse().ok())
            .collect();
        assert_eq!(xs.len(), 2);
        assert!(xs.iter().all(|x| (LEFT..=RIGHT).contains(x)));
        assert!(xs[0] < points[0] && points[3] < xs[1]);
        // The label of the last marker would leave the chart: it ends at its line instead.
        let last_label = doc.descendants().rfind(|n| count_class(n, "marker-label"));
        assert_eq!(last_label.and_then(|n| n.attribute("text-anchor")), Some("end"));
    }

    #[test]
    fn close_markers_stack_their_labels() {
        let at = datetime!(2026-01-05 00:00 UTC);
        let markers =
            (0..4).map(|i| Marker { at: at + Duration::days(i), label: format!("Level change number {i}") }).collect();
        let svg = render(&chart(weekly(20), markers));
        let doc = parse(&svg);
        let ys: Vec<&str> =
            doc.descendants().filter(|n| count_class(n, "marker-label")).filter_map(|n| n.attribute("y")).collect();
        assert_eq!(ys, ["58", "46", "34", "58"], "three rows, then the one that frees up first");
    }

    fn tick_labels(points: Vec<Point>) -> Vec<String> {
        let svg = render(&chart(points, vec![]));
        let doc = parse(&svg);
        let axis = doc.descendants().find(|n| count_class(n, "x-axis"));
        axis.map(|a| {
            a.descendants().filter(|n| n.has_tag_name("text")).filter_map(|n| n.text()).map(str::to_owned).collect()
        })
        .unwrap_or_default()
    }

    #[test]
    fn x_ticks_follow_the_span() {
        // Withdrawal: three days, every four hours.
        let start = datetime!(2026-01-05 08:00 UTC);
        let ciwa = (0..18).map(|i| Point { at: start + Duration::hours(4 * i), value: 8.0 }).collect();
        assert_eq!(tick_labels(ciwa), ["12:00", "6 Jan", "12:00", "7 Jan", "12:00", "8 Jan"]);
        // A quarter of weekly scores: every other Monday.
        assert_eq!(tick_labels(weekly(12)), ["5 Jan 2026", "19 Jan", "2 Feb", "16 Feb", "2 Mar", "16 Mar"]);
        // Two years of weekly scores: quarters.
        assert_eq!(
            tick_labels(weekly(104)),
            ["Jan 2026", "Apr", "Jul", "Oct", "Jan 2027", "Apr", "Jul", "Oct", "Jan 2028"]
        );
        // A week of daily scores.
        let daily =
            (0..7).map(|i| Point { at: datetime!(2026-12-28 10:00 UTC) + Duration::days(i), value: 1.0 }).collect();
        assert_eq!(tick_labels(daily), ["29 Dec 2026", "30 Dec", "31 Dec", "1 Jan 2027", "2 Jan", "3 Jan"]);
    }

    #[test]
    fn dates_are_shown_in_the_first_instants_offset() {
        let at = datetime!(2026-01-05 23:30 -5);
        let svg =
            render(&chart(vec![Point { at, value: 1.0 }, Point { at: at + Duration::hours(1), value: 2.0 }], vec![]));
        assert!(svg.contains("2026-01-05 23:30: 1") && svg.contains("2026-01-06 00:30: 2"), "{svg}");
    }

    #[test]
    fn y_ticks_are_round() {
        assert_eq!(y_ticks(0.0, 27.0), [0.0, 5.0, 10.0, 15.0, 20.0, 25.0]);
        assert_eq!(y_ticks(0.0, 67.0), [0.0, 20.0, 40.0, 60.0]);
        assert_eq!(y_ticks(-1.0, 1.0), [-1.0, -0.5, 0.0, 0.5, 1.0]);
        // An unusable range falls back to one that holds the data.
        let c = TrendChart { y_min: f64::NAN, y_max: 3.0, bands: vec![], ..chart(weekly(1), vec![]) };
        assert_eq!(y_range(&c, &c.points.iter().collect::<Vec<_>>()), (19.0, 21.0));
        parse(&render(&c));
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(C(1.0 / 3.0).to_string(), "0.3");
        assert_eq!(C(-0.01).to_string(), "0");
        assert_eq!(C(12.0).to_string(), "12");
        assert_eq!(V(2.0 / 3.0).to_string(), "0.67");
        assert_eq!(V(7.5).to_string(), "7.5");
        assert_eq!(V(-0.05).to_string(), "-0.05");
        assert_eq!(V(-2.5).to_string(), "-2.5");
        assert_eq!(V(10.04).to_string(), "10.04");
        assert_eq!(V(-0.001).to_string(), "0");
        assert_eq!(V(f64::INFINITY).to_string(), "inf");
        let svg = render(&chart(weekly(104), vec![]));
        let long_decimals = svg
            .split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .filter(|s| s.split('.').nth(1).is_some_and(|d| d.len() > 2))
            .count();
        assert_eq!(long_decimals, 0);
    }

    #[test]
    fn output_is_deterministic() {
        let make = || {
            let mut c = chart(
                weekly(104),
                vec![Marker { at: datetime!(2026-03-02 00:00 UTC), label: "Stepped down to 2.1".into() }],
            );
            c.threshold = Some((10.0, "alert".into()));
            render(&c)
        };
        assert_eq!(make(), make());
    }
}
