@storage
Feature: Querying objects
  Each scenario's scores belong to a Game of its own, and every query asks for that
  game's scores only: other scenarios (and other runs on a shared app) store scores at
  the same time.

  Background:
    Given a Game "tonight" with:
      | field | value        |
      | title | Tuesday quiz |
    And a Score "a" with:
      | field  | value              |
      | game   | the Game "tonight" |
      | player | ann                |
      | score  | 5                  |
    And a Score "b" with:
      | field  | value              |
      | game   | the Game "tonight" |
      | player | bob                |
      | score  | 9                  |
    And a Score "c" with:
      | field  | value              |
      | game   | the Game "tonight" |
      | player | cid                |
      | score  | 1                  |

  @smoke
  Scenario: Constraints, order and limit
    When I query Score ordered by "-score" limited to 2 where:
      """json
      {"game": "@Game:tonight", "score": {"$gte": 2}}
      """
    Then there are 2 results
    And the results' "player" are ["bob", "ann"]

  Scenario: Regular expressions with the SDK's quoting
    When I query Score where:
      """json
      {"game": "@Game:tonight", "player": {"$regex": "^\\Qb\\E"}}
      """
    Then the results' "player" are ["bob"]

  Scenario: Counting
    When I count Score where:
      """json
      {"game": "@Game:tonight"}
      """
    Then the count is 3

  Scenario: The same query in CQL, with placeholders
    When I run the CQL "select * from Score where game = ? and score >= ? order by -score" with:
      """json
      ["@Game:tonight", 2]
      """
    Then there are 2 results
    And the results' "player" are ["bob", "ann"]
    When I run the CQL "select count(*) from Score where game = ? and player like 'b%'" with:
      """json
      ["@Game:tonight"]
      """
    Then the count is 1

  Scenario: A CQL statement that does not parse
    When I run the CQL "select * form Score"
    Then the request fails with 400 and code 300
