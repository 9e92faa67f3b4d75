@hooks @mock-only
Feature: What the hooks ran
  The emulator keeps a trace of every request: the hooks it fired, how each ended, and
  the requests their code made. These scenarios read traces, so they run on the
  in-process emulator only.

  Background:
    Given I am signed in as "anna.schmidt"

  # Also @fresh-app where a scenario changes fixture rows, as in every other feature
  # (the review moves Kuanzhai Hot Pot's counters; the delete removes a fixture
  # business), though @mock-only keeps these off shared apps already.
  @fresh-app
  Scenario: A review runs its before- and after-hooks
    When I create a Review with:
      | field    | value                           |
      | business | the Business "Kuanzhai Hot Pot" |
      | stars    | 5                               |
    Then the request succeeds
    And the trace shows the "Review" "beforeSave" hook
    And the trace shows the "Review" "afterSave" hook

  Scenario: A refused review runs no after-hook
    When I create a Review with:
      | field    | value                           |
      | business | the Business "Kuanzhai Hot Pot" |
      | stars    | 6                               |
    Then the trace shows the "Review" "beforeSave" hook refusing with "Stars must be a whole number from 1 to 5."
    And the trace does not show the "Review" "afterSave" hook

  @fresh-app
  Scenario: Deleting a business runs the afterDelete of each of its reviews
    Given I use the master key
    When I delete the Business "Fuxing Lane Coffee"
    Then the trace shows the "Business" "afterDelete" hook
    And the trace shows the "Review" "afterDelete" hook 7 times

  Scenario: Logging in runs onLogin
    When I log in as "mei.lin"
    Then the trace shows the "_User" "onLogin" hook
