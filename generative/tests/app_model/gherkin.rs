//! The Gherkin writer: sequences of steps rendered as scenarios of the system suite, the
//! steps they use all defined, and a generated feature run on the suite.

use super::*;

// ---------------------------------------------------------------------------------------
// The Gherkin writer
// ---------------------------------------------------------------------------------------

/// A sequence with every kind of step, accepted and refused, on the fixture universe.
fn fixed_sequence() -> (AppState, Vec<Step>) {
    use app::{
        BusinessChange, CategoryInput, CountryInput, DisplayNameInput, NameInput, PhoneInput,
        PostalInput, ReviewChange, StarsInput, Status, StatusInput, TextInput,
    };
    let initial = app::initial_state(false);
    let user = |name: &str| {
        initial
            .users
            .iter()
            .position(|u| u.username == name)
            .unwrap_or_else(|| panic!("no user {name}"))
    };
    let business = |name: &str| {
        initial
            .businesses
            .iter()
            .position(|b| b.label == name)
            .unwrap_or_else(|| panic!("no business {name}"))
    };
    let (mei, chen, li, anna, new1) = (
        user("mei.lin"),
        user("chen.wei"),
        user("li.na"),
        user("anna.schmidt"),
        user("new.user1"),
    );
    let kuanzhai = business("Kuanzhai Hot Pot");
    let fuxing = business("Fuxing Lane Coffee");
    let new_business = initial.businesses.len();
    let new_address = initial.addresses.len();
    let first_review = initial.reviews.len();
    let steps = vec![
        Step::SignUp {
            user: new1,
            display_name: DisplayNameInput::Blank,
        },
        Step::SignUp {
            user: new1,
            display_name: DisplayNameInput::Padded(1),
        },
        Step::CreateAddress {
            by: Who::User(new1),
            country: CountryInput::Lower(3),
            postal: PostalInput::Loose,
            spot: 1,
        },
        Step::CreateBusiness {
            by: Who::User(new1),
            owner: None,
            name: NameInput::Padded(2),
            category: CategoryInput::Capitalised(0),
            phone: Some(PhoneInput::National),
            address: Some(new_address),
        },
        Step::WriteReview {
            by: Who::User(li),
            business: new_business,
            stars: StarsInput::Valid(4),
            text: TextInput::None,
        },
        Step::Moderate {
            by: Who::User(li),
            business: new_business,
            status: StatusInput::Valid(Status::Active),
        },
        Step::Moderate {
            by: Who::User(mei),
            business: new_business,
            status: StatusInput::Valid(Status::Active),
        },
        Step::WriteReview {
            by: Who::User(li),
            business: new_business,
            stars: StarsInput::Valid(4),
            text: TextInput::Longest,
        },
        Step::WriteReview {
            by: Who::User(new1),
            business: new_business,
            stars: StarsInput::Valid(5),
            text: TextInput::None,
        },
        Step::WriteReview {
            by: Who::User(anna),
            business: new_business,
            stars: StarsInput::Valid(3),
            text: TextInput::Short(2),
        },
        Step::WriteReview {
            by: Who::User(li),
            business: fuxing,
            stars: StarsInput::Valid(1),
            text: TextInput::None,
        },
        Step::WriteReview {
            by: Who::User(new1),
            business: kuanzhai,
            stars: StarsInput::Half,
            text: TextInput::None,
        },
        Step::WriteReview {
            by: Who::User(new1),
            business: kuanzhai,
            stars: StarsInput::Valid(2),
            text: TextInput::TooLong,
        },
        Step::EditReview {
            by: Who::User(li),
            review: first_review,
            change: ReviewChange::Stars(StarsInput::Valid(1)),
        },
        Step::EditReview {
            by: Who::User(anna),
            review: first_review,
            change: ReviewChange::Stars(StarsInput::Valid(5)),
        },
        Step::EditReview {
            by: Who::User(li),
            review: first_review,
            change: ReviewChange::CountedStars(5),
        },
        Step::EditBusiness {
            by: Who::User(new1),
            business: new_business,
            change: BusinessChange::RatingCount(99),
        },
        Step::EditBusiness {
            by: Who::User(new1),
            business: new_business,
            change: BusinessChange::Name(NameInput::Padded(3)),
        },
        Step::EditBusiness {
            by: Who::User(new1),
            business: new_business,
            change: BusinessChange::Phone(PhoneInput::E164),
        },
        Step::EditBusiness {
            by: Who::User(chen),
            business: new_business,
            change: BusinessChange::Name(NameInput::Plain(1)),
        },
        Step::EditBusiness {
            by: Who::Master,
            business: kuanzhai,
            change: BusinessChange::Owner(new1),
        },
        Step::MoveAddress {
            by: Who::Master,
            address: new_address,
            spot: 2,
        },
        Step::DeleteReview {
            by: Who::User(li),
            review: first_review,
        },
        Step::DeleteReview {
            by: Who::Master,
            review: first_review,
        },
        Step::DeleteBusiness {
            by: Who::Master,
            business: new_business,
        },
        Step::Moderate {
            by: Who::User(mei),
            business: new_business,
            status: StatusInput::Valid(Status::Suspended),
        },
    ];
    let mut state = initial.clone();
    for step in &steps {
        assert!(app::valid_step(&state, step), "{step:?} is not valid here");
        state = app::next_state(state, step);
    }
    (initial, steps)
}

/// Every step of `text` (a feature) matched by exactly one step definition of the
/// system suite; the problems otherwise.
fn undefined_steps(text: &str) -> Vec<String> {
    use cucumber::World as _;
    use cucumber::gherkin::{Feature, GherkinEnv};
    let feature = match Feature::parse(text, GherkinEnv::default()) {
        Ok(f) => f,
        Err(e) => return vec![format!("not Gherkin: {e}")],
    };
    let collection = system::World::collection();
    let mut out = Vec::new();
    for scenario in &feature.scenarios {
        for step in &scenario.steps {
            match collection.find(step) {
                Ok(Some(_)) => {}
                Ok(None) => out.push(format!(
                    "line {}: no step matches `{}`",
                    step.position.line, step.value
                )),
                Err(e) => out.push(format!(
                    "line {}: `{}` matches several steps: {e}",
                    step.position.line, step.value
                )),
            }
        }
    }
    out
}

#[test]
fn a_sequence_renders_to_steps_the_suite_defines() {
    let (initial, steps) = fixed_sequence();
    let text = app::feature("fixed", "a test of the writer", &initial, &steps);
    assert!(
        text.contains("@generated @fresh-app\nFeature: Generated: fixed"),
        "{text}"
    );
    assert!(
        text.contains("When I sign up as \"new.user1\" with:"),
        "{text}"
    );
    assert!(
        text.contains("| text  | a text of 2000 characters |")
            || text.contains("a text of 2000 characters"),
        "{text}"
    );
    let problems = undefined_steps(&text);
    assert!(problems.is_empty(), "{}\n\n{text}", problems.join("\n"));
}

#[test]
fn random_sequences_render_to_steps_the_suite_defines() {
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = AppModel::sequential_strategy(1..=30);
    let result = runner.run(&strategy, |(initial, steps, _)| {
        let text = app::feature("random", "", &initial, &steps);
        let problems = undefined_steps(&text);
        proptest::prop_assert!(problems.is_empty(), "{}\n\n{text}", problems.join("\n"));
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Run a feature through the system suite's World, in-process, on the target
/// `LC_TARGET` names; whether every step passed.
async fn run_feature(text: &str, tag: &str) -> bool {
    use cucumber::World as _;
    let dir = std::env::temp_dir().join(format!("generative-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    std::fs::write(dir.join(format!("{tag}.feature")), text).expect("the feature is written");
    let writer = system::World::cucumber()
        .fail_on_skipped()
        .with_cli(cucumber::cli::Opts::<_, _, _, cucumber::cli::Empty>::default())
        .run(&dir)
        .await;
    let _ = std::fs::remove_dir_all(&dir);
    use cucumber::writer::Stats as _;
    !writer.execution_has_failed() && writer.passed_steps() > 0
}

/// Generated scenarios change fixture rows: they run only where each scenario has an
/// app of its own.
fn own_app() -> bool {
    !app::shared_target()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_feature_passes_in_the_system_suite() {
    if !own_app() {
        eprintln!("skipped: generated features are @fresh-app");
        return;
    }
    let (initial, steps) = fixed_sequence();
    let text = app::feature("fixed sequence", "a test of the writer", &initial, &steps);
    assert!(
        run_feature(&text, "passes").await,
        "the feature failed:\n{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_feature_fails_where_the_model_and_the_app_differ() {
    if !own_app() {
        eprintln!("skipped: generated features are @fresh-app");
        return;
    }
    let (mut initial, steps) = fixed_sequence();
    // A model that is wrong about one fixture business: the scenario must catch it.
    let kuanzhai = initial
        .businesses
        .iter()
        .position(|b| b.label == "Kuanzhai Hot Pot")
        .expect("a fixture business");
    initial.businesses[kuanzhai].base_count += 1;
    let text = app::feature("wrong model", "a test of the writer", &initial, &steps);
    assert!(
        !run_feature(&text, "fails").await,
        "the feature passed:\n{text}"
    );
}
