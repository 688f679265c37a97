//! One migration tree for both backends. Backend-specific SQL appears only where the schema
//! language cannot say it (the append-only triggers).

use sea_orm_migration::prelude::*;

mod m20261127_000001_foundation;
mod m20261127_000002_continuum;
mod m20261127_000003_client_record;
mod m20261127_000004_aftercare;
mod m20261127_000005_inquiries;
mod m20261127_000006_episode_teams;
mod m20261127_000007_measurement;
mod m20261127_000008_iop;
mod m20261127_000009_facilitator_loads;
mod m20261203_000010_throttle_accounts;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_foundation::Migration),
            Box::new(m20261127_000002_continuum::Migration),
            Box::new(m20261127_000003_client_record::Migration),
            Box::new(m20261127_000004_aftercare::Migration),
            Box::new(m20261127_000005_inquiries::Migration),
            Box::new(m20261127_000006_episode_teams::Migration),
            Box::new(m20261127_000007_measurement::Migration),
            Box::new(m20261127_000008_iop::Migration),
            Box::new(m20261127_000009_facilitator_loads::Migration),
            Box::new(m20261203_000010_throttle_accounts::Migration),
        ]
    }
}
