//! A class's rows with their indexes, kept in step on every write.
//!
//! Everything here is a persistent map (`imbl`): cloning [`Rows`] copies a few pointers,
//! and a write to a clone copies only the tree nodes on its path, so snapshots and forks
//! of an app share every row they have not changed.

use super::index::{Column, FieldIndex, Span, Term, UniqueIndex};
use super::keys::Key;
use super::{Id, StoredObject};
use imbl::OrdMap;
use serde_json::Value;
use std::sync::Arc;

/// A class's objects in id order (ids are time-based, so creation order), with their
/// indexes: `createdAt`, `updatedAt`, every indexed column, every unique index. The row
/// count is the map's, kept as rows come and go.
#[derive(Debug, Clone)]
pub struct Rows {
    by_id: OrdMap<Id, Arc<StoredObject>>,
    pub(crate) indexes: Vec<FieldIndex>,
    pub(crate) unique: Vec<UniqueIndex>,
}

impl Default for Rows {
    fn default() -> Self {
        Rows {
            by_id: OrdMap::new(),
            indexes: vec![
                FieldIndex::new(Column::CreatedAt),
                FieldIndex::new(Column::UpdatedAt),
            ],
            unique: Vec::new(),
        }
    }
}

/// Rows are equal when they hold the same objects (indexes follow from them).
impl PartialEq for Rows {
    fn eq(&self, other: &Self) -> bool {
        self.by_id == other.by_id
    }
}

impl Rows {
    /// How many rows (kept, not counted).
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    pub fn get(&self, id: &str) -> Option<&StoredObject> {
        self.by_id.get(id).map(Arc::as_ref)
    }

    /// The shared row itself (cheap to keep past the store's lock).
    pub fn get_shared(&self, id: &str) -> Option<&Arc<StoredObject>> {
        self.by_id.get(id)
    }

    pub fn contains_key(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    /// Rows in id order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &StoredObject> {
        self.by_id.values().map(Arc::as_ref)
    }

    /// Ids in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &Id> {
        self.by_id.keys()
    }

    /// `(id, row)` in id order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&Id, &StoredObject)> {
        self.by_id.iter().map(|(k, v)| (k, v.as_ref()))
    }

    /// The rows that may hold `value` in `key`: those an index on `key` finds for a string,
    /// every row otherwise. The caller compares the value itself.
    pub(crate) fn candidates_equal<'a>(
        &'a self,
        key: &str,
        value: &Value,
    ) -> Box<dyn Iterator<Item = &'a StoredObject> + 'a> {
        if let (Some(index), Value::String(s)) = (self.field_index(key), value) {
            let span = Span::equal(Term::Str(s.as_str().into()));
            let ids: Vec<&Id> = index.span(&span).map(|e| &e.id).collect();
            return Box::new(ids.into_iter().filter_map(|id| self.get(id)));
        }
        Box::new(self.values())
    }

    /// Add or replace a row, keeping every index in step.
    pub(crate) fn put(&mut self, obj: StoredObject) -> Option<Arc<StoredObject>> {
        let new = Arc::new(obj);
        let old = self.by_id.insert(new.id.clone(), new.clone());
        match &old {
            Some(old) => {
                for index in &mut self.indexes {
                    if index.moves(old, &new) {
                        index.remove(old);
                        index.add(&new);
                    }
                }
                for unique in &mut self.unique {
                    unique.remove(old);
                    unique.add(&new);
                }
            }
            None => {
                for index in &mut self.indexes {
                    index.add(&new);
                }
                for unique in &mut self.unique {
                    unique.add(&new);
                }
            }
        }
        old
    }

    pub(crate) fn take(&mut self, id: &str) -> Option<Arc<StoredObject>> {
        let old = self.by_id.remove(id)?;
        for index in &mut self.indexes {
            index.remove(&old);
        }
        for unique in &mut self.unique {
            unique.remove(&old);
        }
        Some(old)
    }

    pub(crate) fn clear(&mut self) {
        let indexes = self.indexes.iter().map(|i| i.column.clone()).collect();
        let unique = self.unique.iter().map(|u| u.keys.clone()).collect();
        *self = Rows::default();
        self.index(indexes, unique);
    }

    /// Index these columns and these unique key lists, besides what is indexed already
    /// (existing rows are indexed at once).
    pub(crate) fn index(&mut self, columns: Vec<Column>, unique: Vec<Vec<String>>) {
        for column in columns {
            if self.indexes.iter().any(|i| i.column == column) {
                continue;
            }
            let mut index = FieldIndex::new(column);
            for obj in self.by_id.values() {
                index.add(obj);
            }
            self.indexes.push(index);
        }
        for keys in unique {
            if self.unique.iter().any(|u| u.keys == keys) {
                continue;
            }
            let mut index = UniqueIndex::new(keys);
            for obj in self.by_id.values() {
                index.add(obj);
            }
            self.unique.push(index);
        }
    }

    /// The index on a top-level column, if any.
    pub(crate) fn field_index(&self, key: &str) -> Option<&FieldIndex> {
        self.indexes
            .iter()
            .find(|i| matches!(&i.column, Column::Field(k) if k.name() == key))
    }

    /// The index on `createdAt` or `updatedAt`.
    pub(crate) fn date_index(&self, column: &Column) -> Option<&FieldIndex> {
        self.indexes.iter().find(|i| &i.column == column)
    }

    /// The unique index on exactly these keys, if built.
    pub(crate) fn unique_index(&self, keys: &[String]) -> Option<&UniqueIndex> {
        self.unique.iter().find(|u| u.keys == keys)
    }

    /// The columns indexed besides the built-in dates, by name.
    pub fn indexed_columns(&self) -> Vec<&str> {
        self.indexes
            .iter()
            .filter_map(|i| match &i.column {
                Column::Field(k) => Some(k.name()),
                _ => None,
            })
            .collect()
    }
}

/// A column to index, by name.
pub(crate) fn field_column(name: &str) -> Column {
    // Indexed columns are named in every object that has them: give the name its number
    // now, so that the index's key is resolved once and for all.
    super::keys::intern(name);
    Column::Field(Key::new(name))
}

impl Rows {
    /// What changed from `old` to `self`, row by row: `(id, Some(row))` for a row added
    /// or replaced, `(id, None)` for one removed. Subtrees the two share are skipped, so
    /// after one write this costs a few tree nodes whatever the class's size (how the
    /// durable store finds what a request wrote).
    pub fn changes_since<'a>(
        &'a self,
        old: &'a Rows,
    ) -> impl Iterator<Item = (&'a Id, Option<&'a Arc<StoredObject>>)> {
        old.by_id.diff(&self.by_id).map(|item| match item {
            imbl::ordmap::DiffItem::Add(id, row) => (id, Some(row)),
            imbl::ordmap::DiffItem::Update { new: (id, row), .. } => (id, Some(row)),
            imbl::ordmap::DiffItem::Remove(id, _) => (id, None),
        })
    }

    /// What changed from `old` to `self`, row by row, with the row before and after:
    /// `(id, None, Some(new))` added, `(id, Some(old), Some(new))` replaced,
    /// `(id, Some(old), None)` removed. Costs what [`Rows::changes_since`] does (how
    /// LiveQuery learns what a write did).
    #[allow(clippy::type_complexity)]
    pub fn diff<'a>(
        &'a self,
        old: &'a Rows,
    ) -> impl Iterator<
        Item = (
            &'a Id,
            Option<&'a Arc<StoredObject>>,
            Option<&'a Arc<StoredObject>>,
        ),
    > {
        old.by_id.diff(&self.by_id).map(|item| match item {
            imbl::ordmap::DiffItem::Add(id, row) => (id, None, Some(row)),
            imbl::ordmap::DiffItem::Update {
                old: (_, before),
                new: (id, after),
            } => (id, Some(before), Some(after)),
            imbl::ordmap::DiffItem::Remove(id, row) => (id, Some(row), None),
        })
    }
}
