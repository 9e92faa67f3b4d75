@storage
Feature: Querying objects

  Background:
    Given a Score "a" with:
      | field  | value |
      | player | ann   |
      | score  | 5     |
    And a Score "b" with:
      | field  | value |
      | player | bob   |
      | score  | 9     |
    And a Score "c" with:
      | field  | value |
      | player | cid   |
      | score  | 1     |

  @smoke
  Scenario: Constraints, order and limit
    When I query Score ordered by "-score" limited to 2 where:
      """json
      {"score": {"$gte": 2}}
      """
    Then there are 2 results
    And the results' "player" are ["bob", "ann"]

  Scenario: Regular expressions with the SDK's quoting
    When I query Score where:
      """json
      {"player": {"$regex": "^\\Qb\\E"}}
      """
    Then the results' "player" are ["bob"]

  Scenario: Counting
    When I count Score
    Then the count is 3
