//! The catalogue's generation: one row whose `generation` every cached
//! catalogue read carries in its key. An import marks the row `changed` in
//! each batch's transaction that changed a food, and bumps the generation
//! (clearing the mark) once at its end; servers poll it. A mark left by an
//! interrupted import is bumped by the next run, even one that changes
//! nothing itself.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CatalogueState {
    Table,
    Id,
    Generation,
    Changed,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CatalogueState::Table)
                    .col(ColumnDef::new(CatalogueState::Id).integer().not_null().primary_key())
                    .col(ColumnDef::new(CatalogueState::Generation).big_integer().not_null().default(0))
                    .col(ColumnDef::new(CatalogueState::Changed).boolean().not_null().default(false))
                    .to_owned(),
            )
            .await?;
        let row = Query::insert()
            .into_table(CatalogueState::Table)
            .columns([CatalogueState::Id, CatalogueState::Generation, CatalogueState::Changed])
            .values_panic([1.into(), 0.into(), false.into()])
            .to_owned();
        manager.exec_stmt(row).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(CatalogueState::Table).to_owned()).await
    }
}
