@storage
Feature: Storing objects
  Objects are created, read, changed with field operations and deleted, and bad
  input is refused with the real error codes.

  @smoke
  Scenario: A created object can be fetched with its fields
    When I create a Post "hello" with:
      | field | value      |
      | title | hello      |
      | n     | 1          |
      | tags  | ["a", "b"] |
    And I fetch the Post "hello"
    Then the request succeeds
    And the field "title" is hello
    And the field "tags" is ["a", "b"]

  Scenario: Field operations change only the given keys
    Given a Post "counter" with:
      | field | value |
      | n     | 1     |
      | title | keep  |
    When I update the Post "counter" with:
      """json
      {"n": {"__op": "Increment", "amount": 5}, "tags": {"__op": "AddUnique", "objects": ["x", "x"]}}
      """
    Then the field "n" is 6
    When I fetch the Post "counter"
    Then the field "title" is keep
    And the field "tags" is ["x"]

  Scenario: A deleted object reads back as an empty object
    Given a Post "gone" with:
      | field | value |
      | n     | 1     |
    When I delete the Post "gone"
    Then the request succeeds
    When I fetch the Post "gone"
    Then the status is 200
    And the field "objectId" is null

  Scenario Outline: Bad input gets the real error code
    When I create a <class> with:
      """json
      <body>
      """
    Then the status is 400
    And the error code is <code>

    Examples:
      | class | body                                          | code |
      | 1Bad  | {}                                            | 103  |
      | Post  | {"bad-key": 1}                                | 105  |
      | Post  | {"p": {"__type": "Pointer", "className": "X"}} | 106  |
      | Post  | {"ACL": {"*": {"read": "yes"}}}                | 123  |

  # Each item marks its post with the id of "first", and the count counts the marked
  # posts only: other scenarios (and other runs on a shared app) add posts at the same
  # time. 2 = "first", changed in place, and the new one; nothing for the failed item.
  Scenario: A batch runs every item and fails them one by one
    Given a Post "first" with:
      | field | value |
      | n     | 1     |
    When I send a batch:
      """json
      {"requests": [
        {"method": "PUT", "path": "/1.1/classes/Post/{Post:first}", "body": {"n": 2, "batch": "{Post:first}"}},
        {"method": "PUT", "path": "/1.1/classes/Post/nosuchobject", "body": {"n": 3, "batch": "{Post:first}"}},
        {"method": "POST", "path": "/1.1/classes/Post", "body": {"n": 4, "batch": "{Post:first}"}}
      ]}
      """
    Then the status is 200
    And batch item 1 succeeds
    And batch item 2 fails with code 1
    And batch item 3 succeeds
    When I count Post where:
      """json
      {"batch": "{Post:first}"}
      """
    Then the count is 2
