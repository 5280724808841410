//! The reference data page: the product master and the pick lists as
//! tables, and a CSV (or JSON) upload of either. An upload that breaks a
//! rule imports nothing and shows the file's line and the reason.
//!
//! The upload is `catalog::import` on the site's records, the operation
//! behind `POST /api/v1/products` and `/api/v1/picklists`: the same
//! parser, the same all-or-nothing write, the same refusal of records
//! head office owns. The author is the signed-in person.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use serde::Deserialize;

use super::Pages;
use crate::console::{page, Upload, Viewer};
use crate::site::catalog::SiteRecords;
use crate::station::catalog::{self, Author, CatalogError};
use crate::station::reference::{Change, Owner, PickList, Product};
use crate::store::reference::Reference;

/// Rows of a table shown before "and N more".
const SHOWN: usize = 500;

#[derive(Deserialize, Default)]
pub(crate) struct RefQuery {
    #[serde(default)]
    imported: Option<String>,
    #[serde(default)]
    kind: Option<String>,
}

/// `GET /reference`.
pub(crate) async fn page(
    State(pages): State<Pages>,
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

async fn render(
    pages: &Pages,
    viewer: &Viewer,
    notice: Option<String>,
    problem: Option<(StatusCode, String)>,
) -> Response {
    let store = pages.app.store.clone();
    let read = super::blocking(move || {
        let r = SiteRecords(&store);
        Ok::<_, CatalogError>((catalog::products(&r)?, catalog::pick_lists(&r)?))
    })
    .await;
    let (products, lists) = match read {
        Ok(v) => v,
        Err(e) => return super::failed(pages, viewer, "Reference data cannot be read", e),
    };
    let site = pages.app.store.site().to_owned();
    let status = problem.as_ref().map_or(StatusCode::OK, |(s, _)| *s);
    let body = html! {
        @if let Some(n) = &notice { p.notice role="status" id="reference-notice" { (n) } }
        @if let Some((_, p)) = &problem { p.problem role="alert" id="reference-problem" { (p) } }
        (upload_form(viewer))
        section aria-labelledby="products-h" {
            h2 id="products-h" { "Products (" (products.len()) ")" }
            (products_table(&products, &site))
        }
        section aria-labelledby="lists-h" {
            h2 id="lists-h" { "Pick lists (" (lists.len()) ")" }
            (lists_table(&lists, &site))
        }
    };
    (
        status,
        page::shell(&pages.console.chrome, Some(viewer), "Reference data", body),
    )
        .into_response()
}

fn owner(o: &Owner, site: &str) -> String {
    match o {
        Owner::HeadOffice => "head office".into(),
        Owner::Site(s) if s == site => "this site".into(),
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

fn products_table(products: &[Product], site: &str) -> Markup {
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
                owner(&p.owner, site),
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

fn lists_table(lists: &[PickList], site: &str) -> Markup {
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
                owner(&l.owner, site),
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
pub async fn upload(State(pages): State<Pages>, form: Upload) -> Response {
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
    let store = pages.app.store.clone();
    let result = tokio::task::spawn_blocking(move || {
        catalog::import(&SiteRecords(&store), kind, &text, &author)
    })
    .await;
    let slug = match kind {
        Reference::PickLists => "picklists",
        _ => "products",
    };
    let problem = match result {
        Ok(Ok(n)) => {
            return Redirect::to(&format!("/reference?imported={n}&kind={slug}")).into_response()
        }
        Ok(Err(CatalogError::Invalid(m))) => (
            StatusCode::BAD_REQUEST,
            format!("Nothing was imported: {m}"),
        ),
        Ok(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    render(&pages, &viewer, None, Some(problem)).await
}
