@directory
Feature: Reviewing businesses
  Signed-in customers review active businesses once each, with 1 to 5 stars and at
  most 2,000 characters. The Review hooks keep the business's ratingCount, ratingSum
  and ratingAvg and the author's reviewCount right.

  # Every review stored here is on a fixture business by a fixture user, so its hooks
  # move that business's counters and the author's reviewCount: a scenario that stores
  # one (also as a `Given`) is @fresh-app. The cleanup of a shared run deletes the
  # review and the counters go back, but scenarios running meanwhile see them moved, and
  # anna.schmidt's one review per business would clash between scenarios.

  Background:
    Given I am signed in as "anna.schmidt"

  @smoke @fresh-app
  Scenario: A review updates its business's rating and its author's count
    When I create a Review with:
      | field    | value                           |
      | business | the Business "Kuanzhai Hot Pot" |
      | stars    | 4                               |
      | text     | Fiery and good.                 |
    Then the status is 201
    And the Business "Kuanzhai Hot Pot" has:
      | field       | value |
      | ratingCount | 1     |
      | ratingSum   | 4     |
      | ratingAvg   | 4     |
    And the _User "anna.schmidt" has:
      | field       | value |
      | reviewCount | 8     |

  @fresh-app
  Scenario: The author is whoever is signed in
    When I create a Review "mine" with:
      | field    | value                           |
      | business | the Business "Kuanzhai Hot Pot" |
      | stars    | 5                               |
    Then the Review "mine" has:
      | field  | value                    |
      | author | the _User "anna.schmidt" |
    And "anna.schmidt" can see the Review "mine"
    And nobody signed in can see the Review "mine"

  @fresh-app
  Scenario: A new review averages in with the existing ones
    When I create a Review with:
      | field    | value                             |
      | business | the Business "Hutong Dumpling House" |
      | stars    | 3                                 |
    Then the request succeeds
    And the Business "Hutong Dumpling House" has:
      | field       | value |
      | ratingCount | 3     |
      | ratingSum   | 11    |
      | ratingAvg   | 3.67  |

  @fresh-app
  Scenario: Changing the stars moves the sum and the average, not the count
    Given a Review "mine" with:
      | field    | value                           |
      | business | the Business "Kuanzhai Hot Pot" |
      | stars    | 4                               |
    When I update the Review "mine" with:
      """json
      {"stars": 2}
      """
    Then the request succeeds
    And the Business "Kuanzhai Hot Pot" has:
      | field       | value |
      | ratingCount | 1     |
      | ratingSum   | 2     |
      | ratingAvg   | 2     |

  # No tag, though it checks exact counters: every refusal stores nothing, and the
  # values it reads (Kuanzhai Hot Pot's ratingCount, anna.schmidt's reviewCount, Pearl
  # River Print Shop being pending) change only in @fresh-app scenarios.
  Scenario Outline: The cloud code refuses a review that breaks a rule, and nothing changes
    When I create a Review with:
      | field    | value                   |
      | business | the Business "<business>" |
      | stars    | <stars>                 |
      | text     | <text>                  |
    Then the cloud code refuses with "<message>"
    And the Business "<business>" has:
      | field       | value |
      | ratingCount | 0     |
    And the _User "anna.schmidt" has:
      | field       | value |
      | reviewCount | 7     |

    Examples:
      | business               | stars | text                      | message                                                               |
      | Kuanzhai Hot Pot       | 6     | Too good.                 | Stars must be a whole number from 1 to 5.                             |
      | Kuanzhai Hot Pot       | 3.5   | Half a star off.          | Stars must be a whole number from 1 to 5.                             |
      | Kuanzhai Hot Pot       | 4     | a text of 2001 characters | A review may have at most 2,000 characters; this one has 2001.        |
      | Pearl River Print Shop | 4     | Not open yet.             | This business cannot be reviewed until a moderator has approved it.  |

  @fresh-app
  Scenario: A second review of the same business by the same user is refused
    Given a Review "first" with:
      | field    | value                           |
      | business | the Business "Kuanzhai Hot Pot" |
      | stars    | 4                               |
    When I create a Review with:
      | field    | value                           |
      | business | the Business "Kuanzhai Hot Pot" |
      | stars    | 1                               |
    Then the cloud code refuses with "You have already reviewed this business; edit your review instead."
    And the Business "Kuanzhai Hot Pot" has:
      | field       | value |
      | ratingCount | 1     |
      | ratingSum   | 4     |

  # No tag: the index refuses the review. On an app without the index it would be
  # stored with its hooks skipped (no counter moves); the scenario then fails and the
  # cleanup deletes it.
  Scenario: The unique index holds even when the hooks are skipped
    Given I use the master key
    When I create a Review with:
      """json
      {"business": "@Business:Fuxing Lane Coffee", "author": "@_User:anna.schmidt", "stars": 1,
       "__ignore_hooks": ["beforeSave", "afterSave"]}
      """
    Then the status is 400
    And the error is 137 "A unique field was given a value that is already taken."

  Scenario: An owner cannot review their own business
    Given I am signed in as "chen.wei"
    When I create a Review with:
      | field    | value                           |
      | business | the Business "Kuanzhai Hot Pot" |
      | stars    | 5                               |
    Then the cloud code refuses with "You cannot review your own business."

  Scenario: Nobody signed in cannot review
    Given I am not signed in
    When I create a Review with:
      | field    | value                           |
      | business | the Business "Kuanzhai Hot Pot" |
      | stars    | 5                               |
    Then the create is refused by the class permissions

  @fresh-app
  Scenario: Another user cannot edit my review
    Given a Review "mine" with:
      | field    | value                           |
      | business | the Business "Kuanzhai Hot Pot" |
      | stars    | 4                               |
    And I am signed in as "li.na"
    When I update the Review "mine" with:
      | field | value |
      | stars | 1     |
    Then the write is refused by the object's ACL

  @fresh-app
  Scenario: A review cannot move to another business
    Given a Review "mine" with:
      | field    | value                           |
      | business | the Business "Kuanzhai Hot Pot" |
      | stars    | 4                               |
    When I update the Review "mine" with:
      | field    | value                                |
      | business | the Business "Hutong Dumpling House" |
    Then the key "business" is read-only

  @fresh-app
  Scenario: Deleting a review takes it out of the counters
    Given a Review "mine" with:
      | field    | value                           |
      | business | the Business "Kuanzhai Hot Pot" |
      | stars    | 4                               |
    And I use the master key
    When I delete the Review "mine"
    Then the request succeeds
    And the Business "Kuanzhai Hot Pot" has:
      | field       | value |
      | ratingCount | 0     |
      | ratingSum   | 0     |
      | ratingAvg   | 0     |
    And the _User "anna.schmidt" has:
      | field       | value |
      | reviewCount | 7     |

  @smoke @fresh-app
  Scenario: A batch stores the reviews the cloud code accepts and refuses the others
    When I send a batch:
      """json
      {"requests": [
        {"method": "POST", "path": "/1.1/classes/Review",
         "body": {"business": "@Business:Kuanzhai Hot Pot", "stars": 5}},
        {"method": "POST", "path": "/1.1/classes/Review",
         "body": {"business": "@Business:Pearl River Print Shop", "stars": 4}},
        {"method": "POST", "path": "/1.1/classes/Review",
         "body": {"business": "@Business:Hutong Dumpling House", "stars": 3}}
      ]}
      """
    Then the status is 200
    And batch item 1 succeeds
    And batch item 2 fails with code 142
    And batch item 3 succeeds
    And the Business "Kuanzhai Hot Pot" has:
      | field       | value |
      | ratingCount | 1     |
    And the Business "Hutong Dumpling House" has:
      | field       | value |
      | ratingCount | 3     |
    And the _User "anna.schmidt" has:
      | field       | value |
      | reviewCount | 9     |

  @fresh-app
  Scenario: The business's owner hears of a new review on their devices
    Given "chen.wei" has a device "tok-chen-phone"
    And "sam.patel" has a device "tok-sam"
    When I create a Review with:
      | field    | value                           |
      | business | the Business "Kuanzhai Hot Pot" |
      | stars    | 4                               |
    Then the status is 201
    And the installation "tok-chen-phone" was sent "New review of Kuanzhai Hot Pot: 4 of 5 stars"
    And the installation "tok-sam" was sent nothing
