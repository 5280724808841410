//! The floor page: the alerts raised now, if any; one tile per station (mode, location, scanner, what
//! its scans belong to, who is signed in, its last scan and decision),
//! scans per minute accepted and refused and refusals by reason, and the
//! live feed of decisions from the desk's event stream.
//!
//! The feed must stay light at thousands of scans a second: the server
//! coalesces events into at most one message every [`TICK`] carrying the
//! counts and only the latest [`LINES_PER_BATCH`] lines, so the browser's
//! work per second is bounded whatever the scan rate.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use futures_util::stream::{Stream, StreamExt};
use maud::{html, Markup};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::{
    self,
    error::{RecvError, TryRecvError},
};

use super::Pages;
use crate::console::{page, Viewer};
use crate::site::events::{Event, Events};
use crate::station::context::{Context, Mode};

/// The shortest time between two feed messages to one browser.
pub const TICK: Duration = Duration::from_millis(200);
/// The most lines one feed message carries; the rest are counted.
pub const LINES_PER_BATCH: usize = 25;
/// How many minutes of counts the floor keeps (and charts).
pub const MINUTES_KEPT: usize = 240;

/// A station's last scan, as its tile shows it.
#[derive(Debug, Clone, Serialize)]
pub struct LastScan {
    pub(crate) at: DateTime<Utc>,
    pub(crate) accepted: bool,
    pub(crate) text: String,
}

/// Scans decided in one minute.
#[derive(Debug, Clone, Copy, Default)]
struct Minute {
    /// Minutes since the epoch.
    at: i64,
    accepted: u64,
    refused: u64,
}

#[derive(Default)]
struct Counts {
    last: HashMap<String, LastScan>,
    minutes: VecDeque<Minute>,
    /// Refusals since start by code, with the words of the latest.
    reasons: BTreeMap<&'static str, u64>,
    missed: u64,
}

/// What the floor has seen since the daemon started, kept in memory.
pub struct Floor {
    counts: Mutex<Counts>,
    since: DateTime<Utc>,
}

impl Floor {
    /// Starts following `events`; the task ends when the desk's stream does.
    pub fn start(events: &Events) -> Arc<Floor> {
        let floor = Arc::new(Floor {
            counts: Mutex::new(Counts::default()),
            since: Utc::now(),
        });
        let mut rx = events.subscribe();
        let follower = floor.clone();
        tokio::spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(event) => follower.record(&event, Utc::now()),
                    Err(RecvError::Lagged(n)) => follower.lock().missed += n,
                    Err(RecvError::Closed) => return,
                }
            }
        });
        floor
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn record(&self, event: &Event, now: DateTime<Utc>) {
        let accepted = match event.kind {
            "accepted" => true,
            "refused" => false,
            _ => return,
        };
        let mut c = self.lock();
        c.last.insert(
            event.station.clone(),
            LastScan {
                at: now,
                accepted,
                text: describe(event),
            },
        );
        let minute = now.timestamp().div_euclid(60);
        if c.minutes.back().is_none_or(|m| m.at != minute) {
            c.minutes.push_back(Minute {
                at: minute,
                ..Minute::default()
            });
            while c.minutes.len() > MINUTES_KEPT {
                c.minutes.pop_front();
            }
        }
        if let Some(m) = c.minutes.back_mut() {
            if accepted {
                m.accepted += 1;
            } else {
                m.refused += 1;
            }
        }
        if let Some(code) = event.code {
            *c.reasons.entry(code.as_str()).or_default() += 1;
        }
    }
}

/// An event in words, for a feed line or a tile.
fn describe(e: &Event) -> String {
    let mut parts = Vec::new();
    if let Some(k) = e.movement_kind {
        parts.push(k.to_owned());
    }
    if let Some(g) = &e.gtin {
        parts.push(format!("GTIN {g}"));
    }
    if let Some(l) = &e.lot {
        parts.push(format!("lot {l}"));
    }
    if let Some(s) = &e.serial {
        parts.push(format!("serial {s}"));
    }
    if let Some(seq) = e.seq {
        parts.push(format!("(seq {seq})"));
    }
    match (e.kind, &e.message) {
        ("refused", Some(m)) => format!("refused: {m}"),
        (_, Some(m)) if parts.is_empty() => m.clone(),
        _ => parts.join(" "),
    }
}

/// `GET /`: the floor.
pub async fn page(State(pages): State<Pages>, viewer: Viewer) -> Response {
    let tiles = tiles(&pages).await;
    let options: Vec<&str> = pages.stations.iter().map(|s| s.id.as_str()).collect();
    let charts = charts(&pages);
    let alerts = pages.app.alerts.raised();
    let body = html! {
        // The raised alerts (README.md, "Alerts") head the floor, where a
        // supervisor looks first; sync's own state stays on the Sync page.
        @if !alerts.is_empty() {
            section aria-labelledby="alerts-h" {
                h2 id="alerts-h" { "Alerts" }
                ul id="site-alerts" role="alert" {
                    @for a in &alerts {
                        li.problem {
                            strong { (a.alert) }
                            " since " (a.since.format("%Y-%m-%d %H:%M UTC")) ": " (a.message)
                        }
                    }
                }
            }
        }
        section aria-labelledby="stations-h" {
            h2 id="stations-h" { "Stations" }
            div id="tiles" data-refresh="/floor/stations" { (tiles) }
        }
        div.floorgrid {
            section aria-labelledby="feed-h" {
                h2 id="feed-h" { "Live feed" }
                div.feedbar {
                    label for="feed-station" { "Station" }
                    select id="feed-station" {
                        option value="" { "all stations" }
                        @for s in &options { option value=(s) { (s) } }
                    }
                    span.rate id="feed-rate" aria-live="off" { "connecting…" }
                }
                ol id="feed" data-source="/floor/feed" aria-live="polite" aria-relevant="additions" {}
            }
            section aria-labelledby="charts-h" {
                h2 id="charts-h" { "Scans and refusals" }
                div id="charts" data-refresh="/floor/charts" { (charts) }
            }
        }
    };
    (
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        page::shell(&pages.console.chrome, Some(&viewer), "Floor", body),
    )
        .into_response()
}

/// `GET /floor/stations`: the tiles alone, which the page fetches again
/// every few seconds.
pub async fn tiles_fragment(State(pages): State<Pages>) -> Response {
    tiles(&pages).await.into_response()
}

/// `GET /floor/charts`: the charts alone, fetched again likewise.
pub async fn charts_fragment(State(pages): State<Pages>) -> Response {
    charts(&pages).into_response()
}

async fn tiles(pages: &Pages) -> Markup {
    let contexts: HashMap<String, Context> = pages
        .app
        .desk
        .contexts()
        .await
        .map(|all| all.into_iter().collect())
        .unwrap_or_default();
    let last = pages.floor.lock().last.clone();
    let empty = Context::default();
    let running = pages
        .scanners
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    html! {
        div.tiles {
            @for station in pages.stations.iter() {
                @let ctx = contexts.get(&station.id).unwrap_or(&empty);
                @let mode = ctx.mode.unwrap_or(Mode::from(station.mode));
                @let location = ctx.location.clone().unwrap_or_else(|| station.location.clone());
                @let scanners: Vec<_> = running.iter().filter(|s| s.station == station.id).collect();
                article.tile data-station=(station.id) aria-labelledby=(format!("tile-{}", station.id)) {
                    h2 id=(format!("tile-{}", station.id)) { (station.id) }
                    dl {
                        dt { "Mode" } dd { (mode.name()) }
                        dt { "Location" } dd { (location) }
                        dt { "Scanner" }
                        dd {
                            @if scanners.is_empty() { "none (handhelds only)" }
                            @for s in &scanners {
                                (if s.connected() { "connected" } else { "not connected" }) " (" (s.port) ") "
                            }
                        }
                        @if let Some(o) = &ctx.order { dt { "Order" } dd { (o) } }
                        @if let Some(c) = party(&ctx.customer) { dt { "Customer" } dd { (c) } }
                        @if let Some(s) = party(&ctx.supplier) { dt { "Supplier" } dd { (s) } }
                        @if let Some(p) = &ctx.purchase_order { dt { "Purchase order" } dd { (p) } }
                        dt { "Operator" } dd { (ctx.operator.as_deref().unwrap_or("nobody signed in")) }
                        dt { "Last scan" }
                        @match last.get(&station.id) {
                            Some(l) => dd.last.accepted[l.accepted].refused[!l.accepted] {
                                (l.at.format("%H:%M:%S")) " " (l.text)
                            },
                            None => dd.last { "none since the daemon started" },
                        }
                    }
                }
            }
        }
    }
}

/// Scans per minute and refusals by reason, as inline SVG.
fn charts(pages: &Pages) -> Markup {
    let (minutes, reasons, missed) = {
        let c = pages.floor.lock();
        (
            c.minutes.iter().copied().collect::<Vec<_>>(),
            c.reasons.clone(),
            c.missed,
        )
    };
    html! {
        div.charts {
            figure {
                (minutes_chart(&minutes))
                figcaption { "Scans per minute, last " (MINUTES_KEPT / 60) " hours: accepted (green) and refused (red), since " (pages.floor.since.format("%Y-%m-%d %H:%M UTC")) }
            }
            figure {
                (reasons_chart(&reasons))
                figcaption {
                    "Refusals by reason since the daemon started"
                    @if missed > 0 { " (" (missed) " events not counted: the floor fell behind)" }
                }
            }
        }
    }
}

fn party(p: &crate::model::Counterparty) -> Option<String> {
    match (&p.name, &p.gln) {
        (Some(n), Some(g)) => Some(format!("{n} ({g})")),
        (Some(n), None) => Some(n.clone()),
        (None, Some(g)) => Some(g.clone()),
        (None, None) => None,
    }
}

/// Stacked bars per minute (accepted below, refused above), the last
/// [`MINUTES_KEPT`] minutes, as inline SVG (no script, no style).
fn minutes_chart(minutes: &[Minute]) -> Markup {
    const W: f64 = 720.0;
    const H: f64 = 160.0;
    let now = Utc::now().timestamp().div_euclid(60);
    let first = now - MINUTES_KEPT as i64 + 1;
    let peak = minutes
        .iter()
        .map(|m| m.accepted + m.refused)
        .max()
        .unwrap_or(0)
        .max(1);
    let bar = W / MINUTES_KEPT as f64;
    let y = |n: u64| (n as f64 / peak as f64) * (H - 20.0);
    let total_a: u64 = minutes.iter().map(|m| m.accepted).sum();
    let total_r: u64 = minutes.iter().map(|m| m.refused).sum();
    html! {
        svg.chart viewBox=(format!("0 0 {W} {H}")) role="img" aria-label=(format!("{total_a} accepted and {total_r} refused scans in the last {} hours; at most {peak} in a minute", MINUTES_KEPT / 60)) {
            line x1="0" y1=(H - 15.0) x2=(W) y2=(H - 15.0) stroke="#8c959f" {}
            text x="0" y=(H - 2.0) { "-" (MINUTES_KEPT / 60) " h" }
            text x=(W - 30.0) y=(H - 2.0) { "now" }
            text x="2" y="10" { (peak) "/min" }
            @for m in minutes.iter().filter(|m| m.at >= first) {
                @let x = (m.at - first) as f64 * bar;
                @let ha = y(m.accepted);
                @let hr = y(m.refused);
                @if m.accepted > 0 {
                    rect x=(format!("{x:.1}")) y=(format!("{:.1}", H - 15.0 - ha)) width=(format!("{:.1}", bar.max(1.0))) height=(format!("{ha:.1}")) fill="#2da44e" {
                        title { (m.accepted) " accepted" }
                    }
                }
                @if m.refused > 0 {
                    rect x=(format!("{x:.1}")) y=(format!("{:.1}", H - 15.0 - ha - hr)) width=(format!("{:.1}", bar.max(1.0))) height=(format!("{hr:.1}")) fill="#cf222e" {
                        title { (m.refused) " refused" }
                    }
                }
            }
        }
    }
}

/// Horizontal bars, one per refusal code.
fn reasons_chart(reasons: &BTreeMap<&'static str, u64>) -> Markup {
    const W: f64 = 420.0;
    let rows = reasons.len().max(1);
    let h = 22.0 * rows as f64 + 6.0;
    let peak = reasons.values().copied().max().unwrap_or(1).max(1);
    html! {
        svg.chart viewBox=(format!("0 0 {W} {h}")) role="img" aria-label=(format!("{} refusals in {} reasons", reasons.values().sum::<u64>(), reasons.len())) {
            @if reasons.is_empty() {
                text x="4" y="16" { "no refusals since the daemon started" }
            }
            @for (i, (code, n)) in reasons.iter().enumerate() {
                @let y = 4.0 + 22.0 * i as f64;
                @let w = (*n as f64 / peak as f64) * (W - 190.0);
                text x="0" y=(y + 13.0) { (code) }
                rect x="140" y=(y) width=(format!("{:.1}", w.max(1.0))) height="16" fill="#cf222e" {}
                text x=(format!("{:.1}", 144.0 + w)) y=(y + 13.0) { (n) }
            }
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct FeedQuery {
    #[serde(default)]
    station: Option<String>,
}

/// One message of the feed: what happened since the last one.
#[derive(Debug, Default, Serialize)]
struct Batch {
    accepted: u64,
    refused: u64,
    other: u64,
    /// Events the server could not keep up with (the stream lagged).
    missed: u64,
    /// The latest events, oldest first, at most [`LINES_PER_BATCH`].
    lines: VecDeque<Line>,
    /// Milliseconds this batch covers.
    span_ms: u64,
}

#[derive(Debug, Serialize)]
struct Line {
    kind: &'static str,
    station: String,
    time: String,
    text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'static str>,
}

impl Batch {
    fn add(&mut self, e: &Event, station: Option<&str>) {
        if station.is_some_and(|s| s != e.station) {
            return;
        }
        match e.kind {
            "accepted" => self.accepted += 1,
            "refused" => self.refused += 1,
            _ => self.other += 1,
        }
        if self.lines.len() == LINES_PER_BATCH {
            self.lines.pop_front();
        }
        self.lines.push_back(Line {
            kind: e.kind,
            station: e.station.clone(),
            time: Utc::now().format("%H:%M:%S%.3f").to_string(),
            text: describe(e),
            code: e.code.map(|c| c.as_str()),
        });
    }

    fn is_empty(&self) -> bool {
        self.accepted + self.refused + self.other + self.missed == 0
    }
}

/// `GET /floor/feed?station=ID`: the live feed for the page's script,
/// coalesced (see the module's comment). The session cookie is what
/// authenticates it: the API's event stream takes tokens only.
pub(crate) async fn feed(
    State(pages): State<Pages>,
    Query(q): Query<FeedQuery>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let station = q.station.filter(|s| !s.is_empty());
    let stream = coalesce(pages.app.events.subscribe(), station).map(|batch| {
        Ok(SseEvent::default()
            .event("batch")
            .json_data(&batch)
            .unwrap_or_else(|_| SseEvent::default().comment("unserialisable batch")))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// The events of `rx` (of `station` only, if given) as batches: the first
/// event is waited for, then everything that arrives until [`TICK`] after
/// the last batch goes into one.
fn coalesce(rx: broadcast::Receiver<Event>, station: Option<String>) -> impl Stream<Item = Batch> {
    futures_util::stream::unfold(
        (rx, tokio::time::Instant::now() - TICK),
        move |(mut rx, last_sent)| {
            let station = station.clone();
            async move {
                let mut batch = Batch::default();
                while batch.is_empty() {
                    match rx.recv().await {
                        Ok(e) => batch.add(&e, station.as_deref()),
                        Err(RecvError::Lagged(n)) => batch.missed += n,
                        Err(RecvError::Closed) => return None,
                    }
                }
                tokio::time::sleep_until(last_sent + TICK).await;
                loop {
                    match rx.try_recv() {
                        Ok(e) => batch.add(&e, station.as_deref()),
                        Err(TryRecvError::Lagged(n)) => batch.missed += n,
                        Err(TryRecvError::Empty | TryRecvError::Closed) => break,
                    }
                }
                let now = tokio::time::Instant::now();
                batch.span_ms = now.duration_since(last_sent).as_millis() as u64;
                Some((batch, (rx, now)))
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RefusalCode;

    fn event(kind: &'static str, station: &str, n: u64) -> Event {
        Event {
            kind,
            station: station.to_owned(),
            source: None,
            seq: Some(n),
            movement_kind: Some("receipt"),
            gtin: Some("09506000134352".into()),
            lot: Some("<script>L1</script>".into()),
            serial: Some(format!("S{n}")),
            code: (kind == "refused").then_some(RefusalCode::DuplicateSerial),
            message: (kind == "refused").then(|| "already in stock".to_owned()),
            warnings: Vec::new(),
        }
    }

    /// 2,500 events a second for 3 seconds: the browser gets at most one
    /// message per tick, each with at most 25 lines, and the counts add
    /// up to every event sent.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_flood_of_events_arrives_as_few_small_batches_that_count_everything() {
        let events = Events::new();
        let mut batches = Box::pin(coalesce(events.subscribe(), None));
        let sender = events.clone();
        let send = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(10));
            for round in 0..300u64 {
                tick.tick().await;
                for i in 0..25 {
                    let n = round * 25 + i;
                    let kind = if n % 10 == 0 { "refused" } else { "accepted" };
                    sender.send(event(kind, "dock-1", n));
                }
            }
        });
        let started = tokio::time::Instant::now();
        let (mut messages, mut accepted, mut refused, mut missed) = (0u64, 0, 0, 0);
        while accepted + refused + missed < 7_500 {
            let b = tokio::time::timeout(Duration::from_secs(10), batches.next())
                .await
                .expect("a batch")
                .expect("the stream");
            assert!(b.lines.len() <= LINES_PER_BATCH);
            messages += 1;
            accepted += b.accepted;
            refused += b.refused;
            missed += b.missed;
        }
        send.await.unwrap();
        let seconds = started.elapsed().as_secs_f64();
        assert_eq!(missed, 0, "the floor fell behind");
        assert_eq!((accepted, refused), (6_750, 750));
        let per_second = messages as f64 / seconds;
        assert!(
            per_second <= 1.0 / TICK.as_secs_f64() + 1.0,
            "{messages} messages in {seconds:.1} s"
        );
    }

    #[tokio::test]
    async fn a_station_filter_keeps_only_its_events_and_lines_say_the_reason() {
        let events = Events::new();
        let mut batches = Box::pin(coalesce(events.subscribe(), Some("dispatch-1".into())));
        events.send(event("accepted", "dock-1", 1));
        events.send(event("refused", "dispatch-1", 2));
        let b = batches.next().await.unwrap();
        assert_eq!((b.accepted, b.refused), (0, 1));
        assert_eq!(b.lines.len(), 1);
        assert_eq!(b.lines[0].text, "refused: already in stock");
        assert_eq!(b.lines[0].code, Some("duplicate_serial"));
    }
}
