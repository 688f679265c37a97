//! Search results as an R4 `Bundle` of type `searchset`.

use serde::Serialize;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle<T: Serialize> {
    pub resource_type: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub total: usize,
    pub entry: Vec<BundleEntry<T>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleEntry<T: Serialize> {
    pub full_url: String,
    pub resource: T,
    pub search: Search,
}

#[derive(Debug, Serialize)]
pub struct Search {
    pub mode: &'static str,
}

/// `resources` with their ids as `(id, resource)`; `base` is the server's FHIR base URL path.
pub fn searchset<T: Serialize>(base: &str, kind: &str, resources: Vec<(String, T)>) -> Bundle<T> {
    let entry: Vec<_> = resources
        .into_iter()
        .map(|(id, resource)| BundleEntry {
            full_url: format!("{base}/{kind}/{id}"),
            resource,
            search: Search { mode: "match" },
        })
        .collect();
    Bundle { resource_type: "Bundle", kind: "searchset", total: entry.len(), entry }
}
