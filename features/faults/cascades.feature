@faults @emulator-only @fresh-app
Feature: What a broken step of a cascade leaves behind
  A review's afterSave moves its business's rating counters and its author's count. When
  a step of that cascade fails, the review is still stored: these scenarios say what the
  counters then show. Faults are the emulator's (POST /__mock/faults), so these run on
  mock and stack only.

  Background:
    Given I am signed in as "anna.schmidt"

  Scenario: A review whose afterSave fails is stored but not counted
    Given the Review afterSave hook fails once
    When I create a Review with:
      | field    | value                           |
      | business | the Business "Kuanzhai Hot Pot" |
      | stars    | 4                               |
    Then the status is 201
    And the Business "Kuanzhai Hot Pot" has:
      | field       | value |
      | ratingCount | 0     |
      | ratingSum   | 0     |

  Scenario: A review whose beforeSave fails is refused with the hook's message
    Given the Review beforeSave hook fails once with "The directory is read-only today."
    When I create a Review with:
      | field    | value                           |
      | business | the Business "Kuanzhai Hot Pot" |
      | stars    | 4                               |
    Then the cloud code refuses with "The directory is read-only today."

  Scenario: A failed business update in the cascade loses the review's stars
    Given the next update of a Business fails with code 1
    When I create a Review with:
      | field    | value                           |
      | business | the Business "Kuanzhai Hot Pot" |
      | stars    | 4                               |
    Then the status is 201
    And the Business "Kuanzhai Hot Pot" has:
      | field       | value |
      | ratingCount | 0     |
