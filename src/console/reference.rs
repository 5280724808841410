//! The reference data page, for the site (its own records) and head
//! office (what it publishes to every site) alike: the product master and
//! the pick lists as tables, and a CSV (or JSON) upload of either. An
//! upload that breaks a rule imports nothing and shows the file's line and
//! the reason.
//!
//! The upload is `catalog::import` on the side's records (a [`Shelf`]),
//! the operation behind the site's `POST /api/v1/products` and
//! `/api/v1/picklists` and head office's same routes: the same parser,
//! the same all-or-nothing write, the same refusal of records the other
//! side owns. The author is the signed-in person.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};
use serde::Deserialize;

use super::{page, require_viewer, Console, Upload, Viewer};
use crate::model::Reference;
use crate::station::catalog::{self, Author, CatalogError, Records};
use crate::station::reference::{Change, Owner, PickList, Product};

/// The largest file the page takes: the APIs' body limit.
pub const UPLOAD_LIMIT: usize = 16 * 1024 * 1024;

/// Where one side keeps its reference data: its records, on which the
/// catalog's operations run. Called on a blocking thread.
pub trait Shelf: Clone + Send + Sync + 'static {
    /// The side's records (`SiteRecords` or head office's `Published`).
    type Records<'a>: Records
    where
        Self: 'a;
    /// The records the catalog's operations read and write.
    fn records(&self) -> Self::Records<'_>;
    /// The version of `r` this side has published to the sites, where it
    /// publishes (head office); `None` at a site.
    fn published(&self, _r: Reference) -> Result<Option<u64>, CatalogError> {
        Ok(None)
    }
}

/// What the reference page reaches.
#[derive(Clone)]
pub struct References<S> {
    pub(crate) console: Arc<Console>,
    pub(crate) shelf: S,
}

/// `/reference` (the page and its upload), behind sign-in.
pub fn router<S: Shelf>(references: References<S>) -> Router {
    Router::new()
        .route(
            "/reference",
            get(page::<S>)
                .post(upload::<S>)
                .layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
        .route_layer(middleware::from_fn_with_state(
            references.console.clone(),
            require_viewer,
        ))
        .with_state(references)
}

/// Rows of a table shown before "and N more".
const SHOWN: usize = 500;

#[derive(Deserialize, Default)]
pub(crate) struct RefQuery {
    #[serde(default)]
    imported: Option<String>,
    #[serde(default)]
    kind: Option<String>,
}

/// Runs `f` on the shelf's records off the async threads.
async fn on_shelf<S: Shelf, T: Send + 'static>(
    shelf: &S,
    f: impl FnOnce(&S) -> Result<T, CatalogError> + Send + 'static,
) -> Result<T, CatalogError> {
    let shelf = shelf.clone();
    tokio::task::spawn_blocking(move || f(&shelf))
        .await
        .unwrap_or_else(|e| {
            Err(CatalogError::Storage {
                retry: false,
                message: format!("the reference data task failed: {e}"),
            })
        })
}

/// `GET /reference`.
async fn page<S: Shelf>(
    State(pages): State<References<S>>,
    viewer: Viewer,
    Query(q): Query<RefQuery>,
) -> Response {
    let notice = q.imported.map(|n| {
        let what = if q.kind.as_deref() == Some("picklists") {
            "pick lists"
        } else {
            "products"
        };
        format!("Imported {n} {what}.")
    });
    render(&pages, &viewer, notice, None).await
}

/// What the page lists: each kind's records and its published version.
struct Listing {
    products: Vec<Product>,
    lists: Vec<PickList>,
    versions: Option<(u64, u64)>,
    me: Owner,
}

async fn render<S: Shelf>(
    pages: &References<S>,
    viewer: &Viewer,
    notice: Option<String>,
    problem: Option<(StatusCode, String)>,
) -> Response {
    let read = on_shelf(&pages.shelf, |shelf| {
        let r = shelf.records();
        let versions = match (
            shelf.published(Reference::Products)?,
            shelf.published(Reference::PickLists)?,
        ) {
            (Some(p), Some(l)) => Some((p, l)),
            _ => None,
        };
        Ok(Listing {
            products: catalog::products(&r)?,
            lists: catalog::pick_lists(&r)?,
            versions,
            me: r.owner(),
        })
    })
    .await;
    let Listing {
        products,
        lists,
        versions,
        me,
    } = match read {
        Ok(v) => v,
        Err(e) => {
            return page::message(
                &pages.console.chrome,
                Some(viewer),
                StatusCode::INTERNAL_SERVER_ERROR,
                "Reference data cannot be read",
                &e.to_string(),
            )
        }
    };
    let status = problem.as_ref().map_or(StatusCode::OK, |(s, _)| *s);
    let body = html! {
        @if let Some(n) = &notice { p.notice role="status" id="reference-notice" { (n) } }
        @if let Some((_, p)) = &problem { p.problem role="alert" id="reference-problem" { (p) } }
        @if me == Owner::HeadOffice {
            p.muted { "What is imported here is published to every site; each site applies it at its next sync." }
        }
        (upload_form(viewer))
        section aria-labelledby="products-h" {
            h2 id="products-h" { "Products (" (products.len()) ")" }
            @if let Some((v, _)) = versions { p.muted { "Published version " span id="products-version" { (v) } } }
            (products_table(&products, &me))
        }
        section aria-labelledby="lists-h" {
            h2 id="lists-h" { "Pick lists (" (lists.len()) ")" }
            @if let Some((_, v)) = versions { p.muted { "Published version " span id="picklists-version" { (v) } } }
            (lists_table(&lists, &me))
        }
    };
    (
        status,
        page::shell(&pages.console.chrome, Some(viewer), "Reference data", body),
    )
        .into_response()
}

/// Who owns a record, as seen from `me`.
fn owner(o: &Owner, me: &Owner) -> String {
    match o {
        Owner::HeadOffice => "head office".into(),
        Owner::Site(_) if o == me => "this site".into(),
        Owner::Site(s) => format!("site {s}"),
    }
}
fn change(c: &Change) -> String {
    format!(
        "{} · {} · {}",
        c.by,
        c.at.format("%Y-%m-%d %H:%M UTC"),
        c.why
    )
}

/// A serde value's text (`lot_and_serial`), for enums the page only shows.
fn word<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

fn products_table(products: &[Product], me: &Owner) -> Markup {
    let rows: Vec<Vec<String>> = products
        .iter()
        .take(SHOWN)
        .map(|p| {
            vec![
                p.gtin.clone(),
                p.description.clone(),
                word(&p.tracking),
                p.warranty_months.map(|m| m.to_string()).unwrap_or_default(),
                p.shelf_life_days.map(|d| d.to_string()).unwrap_or_default(),
                owner(&p.owner, me),
                change(&p.change),
            ]
        })
        .collect();
    html! {
        div id="products" {
            (page::table("", &["GTIN", "Description", "Tracking", "Warranty (months)", "Shelf life (days)", "Owner", "Last change"], &rows))
            @if products.len() > SHOWN { p.muted { "and " (products.len() - SHOWN) " more" } }
        }
    }
}

fn lists_table(lists: &[PickList], me: &Owner) -> Markup {
    let rows: Vec<Vec<String>> = lists
        .iter()
        .take(SHOWN)
        .map(|l| {
            // The lines' fields are the station's; their JSON is the API's.
            let lines = serde_json::to_value(&l.lines).unwrap_or_default();
            let lines = lines
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|line| {
                            let lots: Vec<&str> = line["lots"]
                                .as_array()
                                .map(|v| v.iter().filter_map(|x| x.as_str()).collect())
                                .unwrap_or_default();
                            let mut s = format!(
                                "{} × {}",
                                line["quantity"],
                                line["gtin"].as_str().unwrap_or_default()
                            );
                            if !lots.is_empty() {
                                s.push_str(&format!(" (lots {})", lots.join(", ")));
                            }
                            s
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                })
                .unwrap_or_default();
            let customer = match (&l.customer.name, &l.customer.gln) {
                (Some(n), Some(g)) => format!("{n} ({g})"),
                (Some(n), None) => n.clone(),
                (None, Some(g)) => g.clone(),
                _ => String::new(),
            };
            vec![
                l.order.clone(),
                customer,
                lines,
                owner(&l.owner, me),
                change(&l.change),
            ]
        })
        .collect();
    html! {
        div id="picklists" {
            (page::table("", &["Order", "Customer", "Lines", "Owner", "Last change"], &rows))
            @if lists.len() > SHOWN { p.muted { "and " (lists.len() - SHOWN) " more" } }
        }
    }
}

fn upload_form(viewer: &Viewer) -> Markup {
    html! {
        section aria-labelledby="upload-h" {
            h2 id="upload-h" { "Import a file" }
            p.muted {
                "CSV with a header line, or JSON. Products: "
                code { "gtin,description,tracking,warranty_months,shelf_life_days" }
                ". Pick lists: " code { "order,customer_gln,customer_name,gtin,quantity,lots" }
                ". A file with any error imports nothing."
            }
            form.upload method="post" action="/reference" enctype="multipart/form-data" {
                (viewer.csrf_field())
                div.fields {
                    div { label for="r-kind" { "What" }
                        select id="r-kind" name="kind" {
                            option value="products" { "products" }
                            option value="picklists" { "pick lists" }
                        }
                    }
                    div { label for="r-file" { "File" } input id="r-file" name="file" type="file" accept=".csv,.json,text/csv,application/json" required; }
                    div { label for="r-why" { "Why (kept with each record)" } input id="r-why" name="why" placeholder="e.g. weekly master from ERP"; }
                    div.actions { button type="submit" { "Import" } }
                }
            }
        }
    }
}

/// `POST /reference`: imports the uploaded file, all or nothing.
async fn upload<S: Shelf>(State(pages): State<References<S>>, form: Upload) -> Response {
    let viewer = form.viewer.clone();
    let kind = match form.text("kind").as_deref() {
        Some("picklists") => Reference::PickLists,
        _ => Reference::Products,
    };
    let text = match form.fields.iter().find(|(k, _)| k == "file") {
        Some((_, bytes)) => match String::from_utf8(bytes.clone()) {
            Ok(t) => t,
            Err(_) => {
                return render(
                    &pages,
                    &viewer,
                    None,
                    Some((StatusCode::BAD_REQUEST, "the file is not UTF-8 text: save it as CSV (UTF-8) and try again; nothing was imported".into())),
                )
                .await
            }
        },
        None => String::new(),
    };
    let default_why = match kind {
        Reference::PickLists => "pick list import",
        _ => "product import",
    };
    let why = form
        .text("why")
        .map(|w| w.trim().to_owned())
        .filter(|w| !w.is_empty())
        .unwrap_or_else(|| default_why.to_owned());
    let author = Author {
        by: viewer.name().to_owned(),
        why,
    };
    let result = on_shelf(&pages.shelf, move |shelf| {
        catalog::import(&shelf.records(), kind, &text, &author)
    })
    .await;
    let slug = match kind {
        Reference::PickLists => "picklists",
        _ => "products",
    };
    let problem = match result {
        Ok(n) => {
            return Redirect::to(&format!("/reference?imported={n}&kind={slug}")).into_response()
        }
        Err(CatalogError::Invalid(m)) => (
            StatusCode::BAD_REQUEST,
            format!("Nothing was imported: {m}"),
        ),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    render(&pages, &viewer, None, Some(problem)).await
}
