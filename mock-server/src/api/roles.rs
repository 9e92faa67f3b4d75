//! `/1.1/roles`: the `_Role` class under its own path, with the same rules as
//! `/1.1/classes/_Role`.

use super::routes::Call;
use super::{HandlerResult, objects};

fn as_role_class<'a>(call: &'a Call<'a>) -> Call<'a> {
    call.for_class("_Role")
}

pub fn create_role(call: &Call<'_>) -> HandlerResult {
    let mut reply = objects::create_object(&as_role_class(call))?;
    for (name, value) in &mut reply.headers {
        if name == "location" {
            *value = value
                .replacen("/1.1/classes/_Role/", "/1.1/roles/", 1)
                .into();
        }
    }
    Ok(reply)
}

pub fn find_roles(call: &Call<'_>) -> HandlerResult {
    objects::find_objects(&as_role_class(call))
}

pub fn get_role(call: &Call<'_>) -> HandlerResult {
    objects::get_object(&as_role_class(call))
}

pub fn update_role(call: &Call<'_>) -> HandlerResult {
    objects::update_object(&as_role_class(call))
}

pub fn delete_role(call: &Call<'_>) -> HandlerResult {
    objects::delete_object(&as_role_class(call))
}
