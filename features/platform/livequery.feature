@platform
Feature: LiveQuery
  A client subscribed to a query hears, as they happen, the objects that enter its
  results, change in them, leave them and are deleted, and only those its user may read.

  Scenario: A subscriber hears what enters, changes in and leaves its query
    Given I am signed in as "mei.lin"
    And I listen live to Dish where:
      | field | value |
      | menu  | lunch |
    When I create a Dish "noodles" with:
      | field | value   |
      | menu  | lunch   |
      | name  | noodles |
    And I create a Dish "dumplings" with:
      | field | value     |
      | menu  | dinner    |
      | name  | dumplings |
    And I update the Dish "noodles" with:
      | field | value               |
      | name  | hand-pulled noodles |
    And I update the Dish "dumplings" with:
      | field | value |
      | menu  | lunch |
    And I update the Dish "noodles" with:
      | field | value  |
      | menu  | dinner |
    And I delete the Dish "dumplings"
    Then I hear live:
      | event  | Dish      |
      | create | noodles   |
      | update | noodles   |
      | enter  | dumplings |
      | leave  | noodles   |
      | delete | dumplings |

  Scenario: A subscriber does not hear of an object its user may not read
    Given I am signed in as "tom.hughes"
    And I listen live to Memo
    When I create a Memo "open" with:
      | field | value |
      | text  | hello |
    And I create a Memo "sealed" with:
      """json
      {"text": "for nobody", "ACL": {}}
      """
    Then the request succeeds
    And I hear live:
      | event  | Memo |
      | create | open |
