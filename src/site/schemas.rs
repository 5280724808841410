//! The OpenAPI schemas of the domain types the site API sends and takes
//! (movements, reference data, station contexts), described here in the
//! site layer so that `crate::model` and `crate::station` stay free of web
//! concerns. Each is a shadow of its domain type with the same JSON
//! fields, from which `utoipa` derives the schema; the tests serialise the
//! real types and fail when a field is added, renamed or dropped on one
//! side only. The site's own API types (`Answer`, `Correction`,
//! `ContextPatch`...) derive their schemas where they are defined.

// Shadow types: never built, only described.
#![allow(dead_code)]

use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

// `model::Kind`.
/// Why stock moved.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum MovementKind {
    Receipt,
    Dispatch,
    Return,
    Adjustment,
    Correction,
    TransferOut,
    TransferIn,
}

/// A count of units, or an exact decimal measure (mantissa × 10^-scale unit).
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Quantity {
    Units(i64),
    Measure {
        #[schema(format = Int64)]
        mantissa: i64,
        #[schema(maximum = 255)]
        scale: u8,
        unit: String,
    },
}

/// What a server-sent event tells.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum EventKind {
    Accepted,
    Refused,
    Context,
}

// `model::Counterparty`.
/// A supplier, customer or other site: its GLN and name, when known.
#[derive(ToSchema)]
pub(crate) struct Counterparty {
    gln: Option<String>,
    name: Option<String>,
}

// `model::Documents`.
/// The business documents a movement belongs to.
#[derive(ToSchema)]
pub(crate) struct Documents {
    purchase_order: Option<String>,
    order: Option<String>,
    despatch_advice: Option<String>,
    sscc: Option<String>,
}

// `model::ScanSource`.
/// The scan exactly as the device sent it and how it was read.
#[derive(ToSchema)]
pub(crate) struct ScanSource {
    /// The raw scan bytes in hex.
    raw: String,
    symbology: String,
    device_profile: String,
    parser_version: String,
}

// `model::MovementId`.
/// Where a movement sits in the journal: its origin site and its seq there.
#[derive(ToSchema)]
pub(crate) struct MovementId {
    origin: String,
    #[schema(minimum = 1)]
    seq: u64,
}

// `model::NewMovement`.
/// What was decided at the station.
#[derive(ToSchema)]
pub(crate) struct MovementBody {
    kind: MovementKind,
    station: String,
    operator: String,
    #[schema(value_type = String, format = DateTime)]
    device_time: chrono::DateTime<chrono::Utc>,
    location: String,
    #[schema(pattern = "^[0-9]{14}$")]
    gtin: String,
    lot: Option<String>,
    serial: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    expiry: Option<chrono::NaiveDate>,
    quantity: Quantity,
    counterparty: Counterparty,
    documents: Documents,
    scan: ScanSource,
    /// Returns, adjustments and corrections: why.
    reason: Option<String>,
    /// A correction: the movement it reverses.
    corrects: Option<MovementId>,
    /// Who recorded it, as scantrail authenticated them (a token's name, a serial scanner's port); empty for movements older than authors.
    author: String,
}

/// A committed movement of the journal: never updated, never deleted.
#[derive(ToSchema)]
pub(crate) struct Movement {
    origin: String,
    #[schema(minimum = 1)]
    seq: u64,
    /// SHA-256 in hex
    #[schema(pattern = "^[0-9a-f]{64}$")]
    prev_hash: String,
    body: MovementBody,
    /// SHA-256 in hex
    #[schema(pattern = "^[0-9a-f]{64}$")]
    hash: String,
}

// `station::Mode`.
/// A station mode.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Mode {
    Receive,
    Dispatch,
    Return,
}

/// What the scans at a station currently belong to.
#[derive(ToSchema)]
pub(crate) struct Context {
    mode: Option<Mode>,
    location: Option<String>,
    operator: Option<String>,
    #[schema(required = false)]
    supplier: Counterparty,
    purchase_order: Option<String>,
    despatch_advice: Option<String>,
    sscc: Option<String>,
    order: Option<String>,
    #[schema(required = false)]
    customer: Counterparty,
    return_reason: Option<String>,
    last_movement: Option<MovementId>,
}

/// This site (`{"site": id}`) or head office: head-office records change only by sync.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Owner {
    Site(String),
    HeadOffice,
}

// `station::Change`.
/// Who changed a record, when and why.
#[derive(ToSchema)]
pub(crate) struct Change {
    by: String,
    #[schema(value_type = String, format = DateTime)]
    at: chrono::DateTime<chrono::Utc>,
    why: String,
}

// `station::Tracking`.
/// What a product's barcodes must carry.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Tracking {
    None,
    Lot,
    Serial,
    LotAndSerial,
}

/// A product of the product master.
#[derive(ToSchema)]
pub(crate) struct Product {
    #[schema(pattern = "^[0-9]{14}$")]
    gtin: String,
    description: String,
    tracking: Tracking,
    #[schema(value_type = Option<u64>, maximum = 4294967295_u64)]
    warranty_months: Option<u32>,
    #[schema(value_type = Option<u64>, maximum = 4294967295_u64)]
    shelf_life_days: Option<u32>,
    owner: Owner,
    change: Change,
}

// `station::HoldKind`.
/// A quarantine hold or a recall.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum HoldKind {
    Hold,
    Recall,
}

/// Inclusive; numeric when both bounds are all digits.
#[derive(ToSchema)]
pub(crate) struct SerialRange {
    from: String,
    to: String,
}

/// What a hold covers: lots of its GTIN, or a range of serials.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum HoldScope {
    Lots(Vec<String>),
    Serials(SerialRange),
}

/// A hold or recall.
#[derive(ToSchema)]
pub(crate) struct Hold {
    id: String,
    kind: HoldKind,
    #[schema(pattern = "^[0-9]{14}$")]
    gtin: String,
    scope: HoldScope,
    reason: String,
    owner: Owner,
    created: Change,
    /// Null while the hold is active.
    released: Option<Change>,
}

/// Either `lots`, or `serial_from` and `serial_to`. The author recorded is the token's name.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewHold {
    #[schema(min_length = 1)]
    id: String,
    #[schema(required = false)]
    kind: HoldKind,
    /// 8, 12, 13 or 14 digits; the check digit is verified.
    #[schema(pattern = "^([0-9]{8}|[0-9]{12,14})$")]
    gtin: String,
    #[schema(required = false, inline)]
    lots: Vec<Lot>,
    serial_from: Option<String>,
    serial_to: Option<String>,
    #[schema(min_length = 1)]
    reason: String,
}

/// A lot number as a hold names it: not empty.
pub(crate) struct Lot;

impl PartialSchema for Lot {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .into()
    }
}

impl ToSchema for Lot {}

/// The author recorded is the token's name.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Release {
    why: String,
}

// `station::PickLine`.
/// One line of a pick list.
#[derive(ToSchema)]
pub(crate) struct PickLine {
    #[schema(pattern = "^([0-9]{8}|[0-9]{12,14})$")]
    gtin: String,
    #[schema(minimum = 1, maximum = 9223372036854775807_u64, format = Int64)]
    quantity: u64,
    #[schema(required = false)]
    lots: Vec<String>,
}

// `station::PickList`.
/// An order to pick at dispatch.
#[derive(ToSchema)]
pub(crate) struct PickList {
    order: String,
    customer: Counterparty,
    lines: Vec<PickLine>,
    owner: Owner,
    change: Change,
}

// `site::glance::Glance`, with the substitute the API adds.
/// A station at a glance, for a handheld's screen.
#[derive(ToSchema)]
pub(crate) struct Glance {
    station: String,
    mode: Mode,
    location: String,
    context: Context,
    /// The open order's pick list with what is left of each line; absent without an order or a pick list.
    #[schema(required = false)]
    pick: Option<PickProgress>,
    /// Why the pick list could not be read, if it could not.
    #[schema(required = false)]
    pick_error: Option<String>,
    /// The GS substitute of the profile of a serial scanner wired to the station (`fnc1_substitute`), if one has one: the handheld page's default there.
    #[schema(required = false)]
    gs_substitute: Option<String>,
}

// `station::progress::PickProgress`.
/// An order's pick list with each line's progress.
#[derive(ToSchema)]
pub(crate) struct PickProgress {
    order: String,
    customer: Counterparty,
    lines: Vec<LineProgress>,
}

// `station::progress::LineProgress`.
/// One line of a pick list and what is left of it (the same count the rules refuse `quantity_exceeded` by).
#[derive(ToSchema)]
pub(crate) struct LineProgress {
    gtin: String,
    description: Option<String>,
    lots: Vec<String>,
    #[schema(format = Int64)]
    quantity: u64,
    #[schema(value_type = i64)]
    picked: i128,
    #[schema(value_type = i64)]
    remaining: i128,
}

/// One product of a JSON import.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImportedProduct {
    /// 8, 12, 13 or 14 digits; the check digit is verified.
    #[schema(pattern = "^([0-9]{8}|[0-9]{12,14})$")]
    gtin: String,
    /// Default: empty.
    #[schema(required = false)]
    description: String,
    /// Default: none.
    tracking: Option<Tracking>,
    #[schema(value_type = Option<u64>, maximum = 4294967295_u64)]
    warranty_months: Option<u32>,
    #[schema(value_type = Option<u64>, maximum = 4294967295_u64)]
    shelf_life_days: Option<u32>,
}

/// One pick list of a JSON import.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImportedPickList {
    #[schema(min_length = 1)]
    order: String,
    #[schema(required = false)]
    customer: Counterparty,
    lines: Vec<PickLine>,
}

/// A station and what its scans currently belong to.
#[derive(ToSchema)]
pub(crate) struct Station {
    id: String,
    context: Context,
}

/// How many records an import took.
#[derive(ToSchema)]
pub(crate) struct Imported {
    imported: usize,
}

/// The form of a photo scan.
#[derive(ToSchema)]
pub(crate) struct ImageForm {
    /// Defaults to the handheld's station.
    #[schema(required = false)]
    station: String,
    #[schema(required = false)]
    operator: String,
    #[schema(value_type = String, format = Binary)]
    image: Vec<u8>,
}

// `crate::report::KINDS`.
/// The reports.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ReportKind {
    Stock,
    Movements,
    Recall,
    Trace,
    Warranty,
    Expiry,
}

/// How a report is answered.
#[derive(ToSchema, Default)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ReportFormat {
    #[default]
    Json,
    Csv,
    Table,
}

/// A report's parameters: `scantrail report`'s flags without dashes.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ReportQuery {
    #[param(inline, default = "json")]
    format: Option<ReportFormat>,
    gtin: Option<String>,
    lot: Option<String>,
    serial: Option<String>,
    from: Option<String>,
    to: Option<String>,
    /// stock, expiry: one location
    location: Option<String>,
    /// stock: only lots expiring before this date (YYYY-MM-DD)
    expiring_before: Option<String>,
    /// stock: `all`, `batch` or `serial`
    by: Option<String>,
    /// expiry: within this many days
    days: Option<String>,
    /// warranty, expiry: the date to count from (YYYY-MM-DD); default today
    today: Option<String>,
}

/// Whether scans can be recorded, the raised alerts and the backups.
#[derive(ToSchema)]
pub(crate) struct Health {
    #[schema(inline)]
    status: HealthStatus,
    /// `ok`, or why the store refuses writes.
    store: String,
    /// While failing: `disk_full` or `store_error`.
    #[schema(required = false)]
    code: String,
    /// With `[backup]`: the schedule and the last scheduled backup's outcome (a failed backup does not make health 503: scans go on).
    #[schema(inline, required = false)]
    backup: BackupHealth,
    /// The alerts raised and not yet resolved (README.md, "Alerts"); empty when all is well.
    #[schema(inline)]
    alerts: Vec<super::alerts::Raised>,
}

/// `ok` or `failing`.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum HealthStatus {
    Ok,
    Failing,
}

/// The backup schedule and the last backup's outcome.
#[derive(ToSchema)]
pub(crate) struct BackupHealth {
    dir: String,
    every_seconds: u64,
    keep: u64,
    /// None yet: null.
    #[schema(inline, required = true)]
    last: Option<LastBackup>,
}

/// The last scheduled backup.
#[derive(ToSchema)]
pub(crate) struct LastBackup {
    /// When it started; the copy holds every movement acknowledged before.
    #[schema(value_type = String, format = DateTime)]
    at: chrono::DateTime<chrono::Utc>,
    ok: bool,
    /// The copy's directory (for a failure, the one it would have had).
    path: String,
    #[schema(required = true)]
    error: Option<String>,
    seconds: f64,
    /// How long of it commits were paused (scans waited): the raw copy of the store's files.
    paused_seconds: f64,
    entries: u64,
}

/// CSV with its header line; an empty body is refused.
pub(crate) struct Csv;

impl PartialSchema for Csv {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .description(Some("CSV with its header line; an empty body is refused."))
            .into()
    }
}

impl ToSchema for Csv {}

#[cfg(test)]
mod tests {
    //! Each shadow names exactly the JSON fields its domain type has.

    use serde_json::{json, Value};
    use utoipa::openapi::OpenApi;

    /// The schemas as the served document has them.
    fn schemas() -> Value {
        let doc: OpenApi = super::super::api::document();
        serde_json::to_value(doc).unwrap()["components"]["schemas"].clone()
    }

    /// The property names of schema `name`, sorted.
    fn properties(schemas: &Value, name: &str) -> Vec<String> {
        let object = schemas[name]["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("schema {name} has no properties"));
        let mut keys: Vec<String> = object.keys().cloned().collect();
        keys.sort();
        keys
    }

    fn keys(value: &Value) -> Vec<String> {
        let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    }

    #[test]
    fn movements_have_the_fields_of_the_model() {
        let schemas = schemas();
        use crate::model::movement::tests_support::{committed, sample};
        let movement = committed(1, sample(1));
        let value = serde_json::to_value(&movement).unwrap();
        assert_eq!(keys(&value), properties(&schemas, "Movement"));
        assert_eq!(keys(&value["body"]), properties(&schemas, "MovementBody"));
        let body = &value["body"];
        for (field, schema) in [
            ("counterparty", "Counterparty"),
            ("documents", "Documents"),
            ("scan", "ScanSource"),
        ] {
            assert_eq!(keys(&body[field]), properties(&schemas, schema), "{field}");
        }
        assert_eq!(
            keys(&serde_json::to_value(movement.id()).unwrap()),
            properties(&schemas, "MovementId")
        );
        let kinds = schemas["MovementKind"]["enum"].as_array().unwrap();
        assert!(kinds.contains(&json!(movement.body.kind.name())));
    }

    #[test]
    fn contexts_and_reference_data_have_the_fields_of_the_station() {
        use crate::station::reference::{Change, Hold, HoldKind, HoldScope, Owner, Product};
        use crate::station::Context;
        let schemas = schemas();
        let context = serde_json::to_value(Context::default()).unwrap();
        assert_eq!(keys(&context), properties(&schemas, "Context"));
        let change = Change {
            by: "alice".into(),
            at: chrono::Utc::now(),
            why: "test".into(),
        };
        let product = Product {
            gtin: "09506000134352".into(),
            description: "d".into(),
            tracking: Default::default(),
            warranty_months: None,
            shelf_life_days: None,
            owner: Owner::HeadOffice,
            change: change.clone(),
        };
        let product = serde_json::to_value(product).unwrap();
        assert_eq!(keys(&product), properties(&schemas, "Product"));
        assert_eq!(keys(&product["change"]), properties(&schemas, "Change"));
        let hold = Hold {
            id: "H-1".into(),
            kind: HoldKind::Hold,
            gtin: "09506000134352".into(),
            scope: HoldScope::Lots(vec!["L1".into()]),
            reason: "r".into(),
            owner: Owner::Site("s".into()),
            created: change,
            released: None,
        };
        let hold = serde_json::to_value(hold).unwrap();
        assert_eq!(keys(&hold), properties(&schemas, "Hold"));
        assert_eq!(hold["owner"], json!({"site": "s"}));
        assert_eq!(hold["scope"], json!({"lots": ["L1"]}));
    }
}
