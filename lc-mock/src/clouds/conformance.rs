//! The recorded app's cloud code (see `clouds`), restated in the conformance README
//! ("The recorded app's cloud code"): the hooks of class `IgnoreHookTest` and the
//! `AV.Cloud` functions.
//!
//! Hooks reach storage through the hook's own client (app key and hook key). The engine
//! marks a hook's object so that its writes skip the hooks of the running hook's side
//! ([`HookRequest::mark`]); where the recorded code also disabled the other side, its
//! writes carry all six hook names.
//!
//! Functions answer `/1.1/call` with the typed encoding the Node engine gives AV values:
//! an object returned as the result (or as an item of a returned array) is
//! `{"__type":"Object",...}`, an object nested in a returned map is a pointer that carries
//! its fields (`{"__type":"Pointer","className","objectId",...}`), dates are
//! `{"__type":"Date","iso":...}`. On `/1.1/functions` the runtime turns `Object` forms
//! into plain JSON, so there nested objects are given as `Object` forms too and a bare
//! date is its ISO string (how a JavaScript `Date` serialises).

use leancloud::LcError;
use leancloud::cloud::{CloudError, FunctionRequest, HookKind, HookRequest, Registry};
use leancloud::value::{Date, LcValue, Object};
use serde_json::{Map, Value, json};

/// The class whose hooks the `hooks` recordings exercise.
pub const HOOK_CLASS: &str = "IgnoreHookTest";
/// The message beforeDelete refuses every delete with.
pub const BEFORE_DELETE_ERROR: &str = "Error from beforeDelete";
/// The class the `AV.Cloud` functions read.
pub const COMPLEX_CLASS: &str = "ComplexObject";
/// `complexObject`'s `t`: 2015-05-14T09:21:18.273Z.
pub const COMPLEX_DATE_MS: i64 = 1_431_595_278_273;

/// The recorded app's functions and hooks.
pub fn registry() -> Registry {
    let mut registry = Registry::new();
    define_hooks(&mut registry);
    define_functions(&mut registry);
    registry
}

// ---- hooks ---------------------------------------------------------------------------------

fn define_hooks(registry: &mut Registry) {
    // Accepts the save and stores the object with `byBeforeSave = 1`.
    registry.before_save(HOOK_CLASS, |req: HookRequest| async move {
        let mut object = req.object;
        set_flag(&mut object, "byBeforeSave");
        Ok(object)
    });
    // Saves `byAfterSave = 1` with the before-hooks disabled as well.
    registry.after_save(HOOK_CLASS, |req: HookRequest| async move {
        save_flag(&req, "byAfterSave").await
    });
    // Saves `byBeforeUpdate = 1` on the object itself with the after-hooks disabled as
    // well, then accepts the update.
    registry.before_update(HOOK_CLASS, |req: HookRequest| async move {
        save_flag(&req, "byBeforeUpdate").await?;
        let mut object = req.object;
        set_flag(&mut object, "byBeforeUpdate");
        Ok(object)
    });
    // Saves `byAfterUpdate = 1` with the before-hooks disabled as well.
    registry.after_update(HOOK_CLASS, |req: HookRequest| async move {
        save_flag(&req, "byAfterUpdate").await
    });
    registry.before_delete(HOOK_CLASS, |_req: HookRequest| async move {
        Err::<(), _>(CloudError::new(BEFORE_DELETE_ERROR))
    });
    registry.after_delete(HOOK_CLASS, |_req: HookRequest| async move {
        Ok::<(), CloudError>(())
    });
}

fn set_flag(object: &mut Value, field: &str) {
    if let Some(map) = object.as_object_mut() {
        map.insert(field.to_string(), json!(1));
    }
}

/// The body a hook's own save of `{field: 1}` sends: the hooks the engine marked the
/// object with (the running hook's side), then the other side, which the recorded code
/// disabled itself. So no hook of the class runs again for it.
pub fn flag_save_body(req: &HookRequest, field: &str) -> Value {
    let mut changes = Map::new();
    changes.insert(field.to_string(), json!(1));
    let mut body = req.mark(Value::Object(changes));
    let other_side = if req.kind.is_before() {
        HookKind::AfterSave.ignored_hooks()
    } else {
        HookKind::BeforeSave.ignored_hooks()
    };
    if let Some(map) = body.as_object_mut() {
        let mut ignored: Vec<Value> = match map.remove("__ignore_hooks") {
            Some(Value::Array(names)) => names,
            _ => Vec::new(),
        };
        for name in other_side {
            if !ignored.iter().any(|n| n == name) {
                ignored.push(json!(name));
            }
        }
        map.insert("__ignore_hooks".into(), Value::Array(ignored));
    }
    body
}

/// `PUT /1.1/classes/<Class>/<id>` of `{field: 1}` with every hook disabled, through the
/// hook's storage client.
async fn save_flag(req: &HookRequest, field: &str) -> Result<(), CloudError> {
    let id = req.object_id().ok_or_else(LcError::missing_object_id)?;
    let body = flag_save_body(req, field);
    req.client().update(&req.class_name, id, &body).await?;
    Ok(())
}

// ---- functions -----------------------------------------------------------------------------

fn define_functions(registry: &mut Registry) {
    registry.define("testAVObjectParams", |req: FunctionRequest| async move {
        check_av_object_params(&req)?;
        Ok(json!({}))
    });
    registry.define(
        "testBareAVObjectParams",
        |req: FunctionRequest| async move {
            check_bare_av_object_params(&req)?;
            Ok(json!({}))
        },
    );
    registry.define("complexObject", |req: FunctionRequest| async move {
        let objects = complex_objects(&req).await?;
        let nested = |o: &Object| {
            if req.rpc {
                LcValue::Included(o.clone()).encode()
            } else {
                o.to_json()
            }
        };
        let date = Date::from_ms(COMPLEX_DATE_MS);
        let mut result = Map::new();
        result.insert("foo".into(), json!("bar"));
        result.insert("i".into(), json!(123));
        result.insert("obj".into(), json!({"a": "b", "as": [1, 2, 3]}));
        result.insert(
            "t".into(),
            if req.rpc {
                date.to_json()
            } else {
                json!(date.iso())
            },
        );
        // With no rows the first object is undefined, which JSON leaves out.
        if let Some(first) = objects.first() {
            result.insert("avObject".into(), nested(first));
        }
        result.insert(
            "avObjects".into(),
            Value::Array(objects.iter().map(nested).collect()),
        );
        Ok(Value::Object(result))
    });
    registry.define("bareAVObject", |req: FunctionRequest| async move {
        let objects = complex_objects(&req).await?;
        // An undefined result is encoded as an empty map.
        Ok(objects.first().map_or_else(|| json!({}), Object::to_json))
    });
    registry.define("AVObjects", |req: FunctionRequest| async move {
        let objects = complex_objects(&req).await?;
        Ok(Value::Array(objects.iter().map(Object::to_json).collect()))
    });
    registry.define("hello", |req: FunctionRequest| async move {
        let mut result = Map::new();
        result.insert("action".into(), json!("hello"));
        // An undefined name is left out, as JSON leaves out undefined values.
        if let Some(name) = req.params.get("name") {
            result.insert("name".into(), name.clone());
        }
        Ok(Value::Object(result))
    });
    registry.define(
        "foo",
        |_req: FunctionRequest| async move { Ok(json!("bar")) },
    );
}

/// Every `ComplexObject`, oldest first, with `fileColumn` included, as typed objects.
async fn complex_objects(req: &FunctionRequest) -> Result<Vec<Object>, CloudError> {
    let rows = req
        .client()
        .query(COMPLEX_CLASS)
        .include("fileColumn")
        .order("createdAt")
        .find()
        .await?;
    rows.iter()
        .map(|row| {
            let mut map = row.as_object().cloned().unwrap_or_default();
            map.insert("className".into(), json!(COMPLEX_CLASS));
            Ok(Object::from_json(&Value::Object(map))?)
        })
        .collect()
}

/// A failed expectation of the recorded code: an uncaught error there (HTTP 500, code 1).
fn expect(ok: bool, what: &str) -> Result<(), CloudError> {
    if ok {
        Ok(())
    } else {
        Err(CloudError::uncaught(what.to_string()))
    }
}

/// A whole object: `{"__type":"Object",...}` or a pointer carrying its fields.
fn as_object(value: Option<&LcValue>) -> Option<&Object> {
    match value? {
        LcValue::Object(o) | LcValue::Included(o) => Some(o),
        _ => None,
    }
}

fn has_name(object: &Object, name: &str) -> bool {
    matches!(object.get("name"), Some(LcValue::String(s)) if s == name)
}

fn is_user(value: Option<&LcValue>) -> bool {
    match value {
        Some(LcValue::Pointer(p)) => p.class_name == "_User",
        Some(LcValue::Included(o) | LcValue::Object(o)) => o.class_name == "_User",
        _ => false,
    }
}

/// `avObject` (an object named `avObject` whose `pointerColumn` is a user), `avFile` (a
/// file) and `avObjects` (objects named `avObjects`).
fn check_av_object_params(req: &FunctionRequest) -> Result<(), CloudError> {
    let object = as_object(req.typed_param("avObject"));
    expect(object.is_some(), "avObject should be an AV.Object")?;
    expect(
        object.is_some_and(|o| has_name(o, "avObject")),
        "avObject.name should be 'avObject'",
    )?;
    expect(
        object.is_some_and(|o| is_user(o.get("pointerColumn"))),
        "avObject.pointerColumn should be an AV.User",
    )?;
    expect(
        matches!(req.typed_param("avFile"), Some(LcValue::File(_))),
        "avFile should be an AV.File",
    )?;
    let objects_ok = match req.typed_param("avObjects") {
        Some(LcValue::Array(items)) => items
            .iter()
            .all(|item| as_object(Some(item)).is_some_and(|o| has_name(o, "avObjects"))),
        _ => false,
    };
    expect(
        objects_ok,
        "avObjects should be AV.Objects named 'avObjects'",
    )
}

/// The params are an object named `avObject` with a file `avFile`.
fn check_bare_av_object_params(req: &FunctionRequest) -> Result<(), CloudError> {
    let object = as_object(req.decoded_params.as_ref());
    expect(object.is_some(), "the params should be an AV.Object")?;
    expect(
        object.is_some_and(|o| has_name(o, "avObject")),
        "params.name should be 'avObject'",
    )?;
    expect(
        object.is_some_and(|o| matches!(o.get("avFile"), Some(LcValue::File(_)))),
        "params.avFile should be an AV.File",
    )
}
