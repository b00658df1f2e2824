#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Checkpoints across builds: stable message names, checkpoints of older formats, and the
//! workflow's own checkpoint migrations.
//!
//! `fixtures/v1-superstep-*.json` were written by Weft before stable names (format 1) by the
//! `orders` workflow below: superstep 1 holds an `Order` in flight to `approve`, superstep 2 the
//! request `approve` asked. Their type names are Rust type names (`checkpoint_compat::Order`).

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use weft_workflow::{
    BoxError, BuildError, CHECKPOINT_FORMAT_VERSION, Checkpoint, CheckpointError, CheckpointStore,
    FileCheckpointStore, FnExecutor, InMemoryCheckpointStore, RequestResponse, RunStatus, Workflow,
    WorkflowBuilder, WorkflowContext, WorkflowError, WorkflowMessage, WorkflowRunResult,
};

const SUPERSTEP_1: &str = include_str!("fixtures/v1-superstep-1.json");
const SUPERSTEP_2: &str = include_str!("fixtures/v1-superstep-2.json");

/// An order, the message of the fixture workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Order {
    id: String,
    qty: i64,
}

/// Something made from `id` and a quantity: lets the same workflow shape run on other types.
trait Item: WorkflowMessage {
    fn make(id: &str, quantity: i64) -> Self;
}

impl Item for Order {
    fn make(id: &str, qty: i64) -> Self {
        Order { id: id.into(), qty }
    }
}

/// parse (String -> T) -> approve (asks a bool about the T, sends it when approved) -> report.
fn orders<T: Item>(store: Arc<dyn CheckpointStore>) -> WorkflowBuilder {
    WorkflowBuilder::new()
        .name("orders")
        .start_with(FnExecutor::new("parse", |text: String, ctx: WorkflowContext<T>| async move {
            let (id, quantity) = text.split_once(':').ok_or("expected id:quantity")?;
            ctx.send_message(T::make(id, quantity.parse()?));
            Ok(())
        }))
        .add_executor(Approve::<T>(std::marker::PhantomData))
        .add_executor(FnExecutor::new("report", |item: T, ctx: WorkflowContext<()>| async move {
            ctx.yield_output(item);
            Ok(())
        }))
        .add_edge("parse", "approve")
        .add_edge("approve", "report")
        .with_checkpoint_store(store)
}

/// Asks whether to pass each item on.
struct Approve<T>(std::marker::PhantomData<fn() -> T>);

#[async_trait::async_trait]
impl<T: Item> weft_workflow::Executor for Approve<T> {
    type Input = T;
    type Output = T;

    fn id(&self) -> &str {
        "approve"
    }

    async fn handle(&self, item: T, ctx: &WorkflowContext<T>) -> Result<(), BoxError> {
        ctx.request_info::<T, bool>(item)?;
        Ok(())
    }

    async fn handle_response(
        &self,
        request: weft_workflow::PendingRequest,
        response: weft_workflow::AnyMessage,
        ctx: &WorkflowContext<T>,
    ) -> Result<(), BoxError> {
        if response.take::<bool>().map_err(|m| format!("not a bool: {m:?}"))? {
            ctx.send_message(request.data_as::<T>()?);
        }
        Ok(())
    }
}

/// Saves `json` as a checkpoint in a new store.
async fn store_with(json: &str) -> (Arc<InMemoryCheckpointStore>, Checkpoint) {
    let store = Arc::new(InMemoryCheckpointStore::new());
    let checkpoint = Checkpoint::from_json(json).unwrap();
    store.save(&checkpoint).await.unwrap();
    (store, checkpoint)
}

fn paused_request(result: &WorkflowRunResult) -> weft_workflow::PendingRequest {
    assert_eq!(result.status, RunStatus::IdleWithPendingRequests, "{:?}", result.error());
    let requests = result.pending_requests();
    assert_eq!(requests.len(), 1);
    requests[0].clone()
}

/// Runs `workflow` from the fixture of superstep 1 (resume, then answer) and from the one of
/// superstep 2 (answer), returning both outputs.
async fn finish_fixtures<T: Item>(
    build: impl Fn(Arc<dyn CheckpointStore>) -> Workflow,
    one: &str,
    two: &str,
) -> Vec<T> {
    let mut outputs = Vec::new();
    let (store, checkpoint) = store_with(one).await;
    let workflow = build(store.clone());
    let paused = workflow.resume(&checkpoint.checkpoint_id).await.unwrap();
    let request = paused_request(&paused);
    let last = workflow.list_checkpoints(&paused.run_id).await.unwrap().pop().unwrap();
    let done = workflow
        .send_responses(&last.checkpoint_id, vec![RequestResponse::new(request.request_id, true)])
        .await
        .unwrap();
    assert_eq!(done.status, RunStatus::Idle, "{:?}", done.error());
    outputs.extend(done.outputs_as::<T>());

    let (store, checkpoint) = store_with(two).await;
    let workflow = build(store);
    let request = &checkpoint.pending_requests[0];
    let done = workflow
        .send_responses(
            &checkpoint.checkpoint_id,
            vec![RequestResponse::new(request.request_id.clone(), true)],
        )
        .await
        .unwrap();
    assert_eq!(done.status, RunStatus::Idle, "{:?}", done.error());
    outputs.extend(done.outputs_as::<T>());
    outputs
}

#[tokio::test]
async fn checkpoints_of_format_1_load_and_finish() {
    let order = Order { id: "A7".into(), qty: 3 };
    // As the same workflow wrote them, and with the types registered under stable names now.
    let plain = |store| orders::<Order>(store).build().unwrap();
    assert_eq!(
        finish_fixtures::<Order>(plain, SUPERSTEP_1, SUPERSTEP_2).await,
        vec![order.clone(), order.clone()]
    );
    let named = |store| orders::<Order>(store).message::<Order>("shop.Order").build().unwrap();
    assert_eq!(
        finish_fixtures::<Order>(named, SUPERSTEP_1, SUPERSTEP_2).await,
        vec![order.clone(), order.clone()]
    );

    // Without a format version at all (format 0) they load the same way.
    let strip = |json: &str| {
        let mut value: Value = serde_json::from_str(json).unwrap();
        value.as_object_mut().unwrap().remove("format_version");
        value.to_string()
    };
    let (one, two) = (strip(SUPERSTEP_1), strip(SUPERSTEP_2));
    assert_eq!(Checkpoint::from_json(&one).unwrap().format_version, 0);
    assert_eq!(finish_fixtures::<Order>(named, &one, &two).await, vec![order.clone(), order]);
}

#[tokio::test]
async fn checkpoints_name_types_by_their_stable_names() {
    let store = Arc::new(InMemoryCheckpointStore::new());
    let workflow = orders::<Order>(store.clone()).message::<Order>("shop.Order").build().unwrap();
    let paused = workflow.run("B1:2".to_string()).await.unwrap();
    let request = paused_request(&paused);
    assert_eq!((request.request_type.as_str(), request.response_type.as_str()), ("shop.Order", "bool"));
    let infos = workflow.list_checkpoints(&paused.run_id).await.unwrap();
    let in_flight = store.load(&infos[1].checkpoint_id).await.unwrap();
    assert_eq!(in_flight.format_version, CHECKPOINT_FORMAT_VERSION);
    assert_eq!(in_flight.messages[0].type_name, "shop.Order");
    assert!(!in_flight.to_json().unwrap().contains("checkpoint_compat"), "no Rust type name is written");
}

/// Another build of the program: its own Rust type, with the same JSON and the same name.
mod other_build {
    use serde::{Deserialize, Serialize};

    /// The other build's order.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
    pub struct Commande {
        pub id: String,
        pub qty: i64,
    }

    impl super::Item for Commande {
        fn make(id: &str, qty: i64) -> Self {
            Commande { id: id.into(), qty }
        }
    }
}

use other_build::Commande;

#[tokio::test]
async fn a_checkpoint_loads_in_a_workflow_built_from_other_types_of_the_same_name() {
    let dir = tempfile::tempdir().unwrap();
    let writer = orders::<Order>(Arc::new(FileCheckpointStore::new(dir.path())))
        .message::<Order>("shop.Order")
        .build()
        .unwrap();
    let paused = writer.run("C3:5".to_string()).await.unwrap();
    let request = paused_request(&paused);
    let infos = writer.list_checkpoints(&paused.run_id).await.unwrap();

    // Built separately, from other Rust types, reading the same files.
    let reader_store: Arc<dyn CheckpointStore> = Arc::new(FileCheckpointStore::new(dir.path()));
    let reader = orders::<Commande>(reader_store.clone()).message::<Commande>("shop.Commande.unused");
    let error = reader.build().unwrap().resume(&infos[1].checkpoint_id).await.unwrap_err();
    assert!(
        matches!(&error, WorkflowError::Checkpoint(CheckpointError::UnknownMessageType { name }) if name == "shop.Order"),
        "{error}"
    );
    assert!(error.to_string().contains("'shop.Order'"), "{error}");

    let reader = orders::<Commande>(reader_store).message::<Commande>("shop.Order").build().unwrap();
    // From the message in flight: the reader's approve asks again, and is answered.
    let again = reader.resume(&infos[1].checkpoint_id).await.unwrap();
    let asked = paused_request(&again);
    assert_eq!(asked.request_type, "shop.Order");
    let last = reader.list_checkpoints(&again.run_id).await.unwrap().pop().unwrap();
    let done = reader
        .send_responses(&last.checkpoint_id, vec![RequestResponse::new(asked.request_id, true)])
        .await
        .unwrap();
    let expected = Commande { id: "C3".into(), qty: 5 };
    assert_eq!(done.outputs_as::<Commande>(), vec![expected.clone()]);
    // From the writer's pending request: answered in the reader.
    let last = infos.last().unwrap();
    let done = reader
        .send_responses(&last.checkpoint_id, vec![RequestResponse::new(request.request_id, true)])
        .await
        .unwrap();
    assert_eq!(done.outputs_as::<Commande>(), vec![expected]);
}

#[test]
fn a_name_is_for_one_type_and_a_type_has_one_name() {
    let store = || -> Arc<dyn CheckpointStore> { Arc::new(InMemoryCheckpointStore::new()) };
    let two_types = orders::<Order>(store()).message::<Order>("shop.Order").message::<Commande>("shop.Order");
    assert!(matches!(two_types.build(), Err(BuildError::MessageName { name, .. }) if name == "shop.Order"));
    let two_names = orders::<Order>(store()).message::<Order>("shop.Order").message::<Order>("shop.Order2");
    assert!(matches!(two_names.build(), Err(BuildError::MessageName { name, .. }) if name == "shop.Order2"));
    // Registering the same name again is harmless.
    let again = orders::<Order>(store()).message::<Order>("shop.Order").message::<Order>("shop.Order");
    assert!(again.build().is_ok());
}

/// The order of version 1 of the workflow: `qty` became `quantity`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OrderV1 {
    id: String,
    quantity: i64,
}

impl Item for OrderV1 {
    fn make(id: &str, quantity: i64) -> Self {
        OrderV1 { id: id.into(), quantity }
    }
}

/// Version 0 to 1: the old Rust name becomes the stable name, and `qty` becomes `quantity`.
fn upgrade_orders(mut checkpoint: Value) -> Result<Value, BoxError> {
    let rename = |order: &mut Value| -> Result<(), BoxError> {
        let order = order.as_object_mut().ok_or("an order is an object")?;
        let qty = order.remove("qty").ok_or("an order of version 0 has qty")?;
        order.insert("quantity".into(), qty);
        Ok(())
    };
    for record in checkpoint["messages"].as_array_mut().ok_or("messages")? {
        if record["type_name"] == "checkpoint_compat::Order" {
            record["type_name"] = json!("shop.Order");
            rename(&mut record["value"])?;
        }
    }
    for request in checkpoint["pending_requests"].as_array_mut().ok_or("pending_requests")? {
        if request["request_type"] == "checkpoint_compat::Order" {
            request["request_type"] = json!("shop.Order");
            rename(&mut request["data"])?;
        }
    }
    Ok(checkpoint)
}

#[tokio::test]
async fn a_migration_upgrades_old_checkpoints() {
    let upgraded = |store| {
        orders::<OrderV1>(store)
            .message::<OrderV1>("shop.Order")
            .checkpoint_version(1)
            .checkpoint_migration(0, upgrade_orders)
            .build()
            .unwrap()
    };
    let order = OrderV1 { id: "A7".into(), quantity: 3 };
    assert_eq!(
        finish_fixtures::<OrderV1>(upgraded, SUPERSTEP_1, SUPERSTEP_2).await,
        vec![order.clone(), order]
    );

    // It writes its version; without the migration, or older than the checkpoint, it refuses.
    let (store, checkpoint) = store_with(SUPERSTEP_1).await;
    let paused = upgraded(store.clone()).resume(&checkpoint.checkpoint_id).await.unwrap();
    let last = upgraded(store.clone()).list_checkpoints(&paused.run_id).await.unwrap().pop().unwrap();
    assert_eq!(store.load(&last.checkpoint_id).await.unwrap().workflow_version, 1);
    let missing =
        orders::<OrderV1>(store.clone()).message::<OrderV1>("shop.Order").checkpoint_version(1).build();
    let error = missing.unwrap().resume(&checkpoint.checkpoint_id).await.unwrap_err();
    assert!(
        matches!(error, WorkflowError::Checkpoint(CheckpointError::NoMigration { from: 0, to: 1 })),
        "{error}"
    );
    let older = orders::<OrderV1>(store.clone()).message::<OrderV1>("shop.Order").build().unwrap();
    let error = older.resume(&last.checkpoint_id).await.unwrap_err();
    assert!(
        matches!(
            error,
            WorkflowError::Checkpoint(CheckpointError::WorkflowVersion { found: 1, supported: 0 })
        ),
        "{error}"
    );
    // A migration that fails says so.
    let failing = orders::<OrderV1>(store)
        .checkpoint_version(1)
        .checkpoint_migration(0, |_| Err("no way".into()))
        .build()
        .unwrap();
    let error = failing.resume(&checkpoint.checkpoint_id).await.unwrap_err();
    assert!(
        matches!(error, WorkflowError::Checkpoint(CheckpointError::Migration { from: 0, .. })),
        "{error}"
    );
}

#[tokio::test]
async fn weft_types_have_stable_names_and_format_2_checkpoints_with_their_rust_names_load() {
    // A String in flight to `parse`, as format 2 wrote it (String had no stable name then).
    let mut value: Value = serde_json::from_str(SUPERSTEP_1).unwrap();
    value["format_version"] = json!(2);
    value["superstep"] = json!(0);
    value["messages"] =
        json!([{ "executor_id": "parse", "type_name": std::any::type_name::<String>(), "value": "C3:4" }]);
    let (store, checkpoint) = store_with(&value.to_string()).await;
    let workflow = orders::<Order>(store.clone()).build().unwrap();
    let paused = workflow.resume(&checkpoint.checkpoint_id).await.unwrap();
    let request = paused_request(&paused);
    assert_eq!(request.response_type, "bool");
    let done = workflow
        .send_responses(
            &workflow.list_checkpoints(&paused.run_id).await.unwrap().pop().unwrap().checkpoint_id,
            vec![RequestResponse::new(request.request_id, true)],
        )
        .await
        .unwrap();
    assert_eq!(done.outputs_as::<Order>(), vec![Order { id: "C3".into(), qty: 4 }]);

    // New checkpoints and journals call Weft's types by Weft's names for them.
    let text = weft_workflow::AnyMessage::new("x".to_string());
    assert_eq!(workflow.message_name(&text), "weft.String");
    let conversation = weft_workflow::AnyMessage::new(vec![weft_core::Message::user("hi")]);
    assert_eq!(workflow.message_name(&conversation), "Vec<weft.Message>");

    // A workflow may name Weft's types its own way instead.
    let renamed =
        orders::<Order>(Arc::new(InMemoryCheckpointStore::new())).message::<String>("text").build().unwrap();
    assert_eq!(renamed.message_name(&text), "text");
    let paused = renamed.run("E1:1".to_string()).await.unwrap();
    assert_eq!(paused_request(&paused).response_type, "bool");
}
