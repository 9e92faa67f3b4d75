//! Faults: a step of the app's hook chain that fails, armed in the emulator
//! (`POST /__mock/faults`). A deployed app cannot be bent, so scenarios that use these
//! are tagged `@emulator-only` (they run on `mock` and on `stack`).

use crate::World;
use cucumber::given;
use harness::Fault;

async fn arm(world: &mut World, fault: Fault) {
    assert!(
        world
            .tags
            .iter()
            .any(|t| t == "emulator-only" || t == "mock-only"),
        "steps that arm faults need the scenario tagged @emulator-only"
    );
    world
        .app
        .fault(&fault)
        .await
        .unwrap_or_else(|e| panic!("the fault could not be set: {e}"));
}

/// Example: Given the Review afterSave hook fails once
///
/// The hook's next call fails (code 1, `injected fault`) without reaching the cloud
/// code; later calls run as usual. A before-hook's failure refuses the write (142); an
/// after-hook's leaves the write stored and the hook's own work undone.
#[given(regex = r"^the (\w+) (\w+) hook fails once$")]
async fn hook_fails_once(world: &mut World, class: String, hook: String) {
    arm(world, Fault::hook(&class, &hook).once()).await;
}

/// Example: Given the Review beforeSave hook fails once with "The directory is read-only today."
///
/// The same, with the hook's error message.
#[given(regex = r#"^the (\w+) (\w+) hook fails once with "(.*)"$"#)]
async fn hook_fails_once_with(world: &mut World, class: String, hook: String, message: String) {
    arm(world, Fault::hook(&class, &hook).fails(1, &message).once()).await;
}

/// Example: Given the next update of a Business fails with code 1
///
/// Storage refuses the next update of an object of the class, whoever sends it (a
/// client, or a hook's code), with that code; nothing is stored.
#[given(regex = r"^the next (create|update|delete) of an? (\w+) fails with code (-?\d+)$")]
async fn write_fails_once(world: &mut World, op: String, class: String, code: i64) {
    let fault = Fault::write(&class)
        .only(&op)
        .fails(code, "injected fault")
        .once();
    arm(world, fault).await;
}
