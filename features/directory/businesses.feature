@directory
Feature: Listing businesses
  Owners list businesses at an address; a new listing is pending with zeroed rating
  counters until a moderator approves it. Only the owner and the moderators may edit a
  business, only moderators change its status, and the counters are the app's.

  # No tag: the listing is the scenario's own object (deleted after it), and its
  # afterSave leaves chen.wei's row alone, since chen.wei is an owner already.
  @smoke
  Scenario: A new listing is pending, with the address's location and no ratings
    Given I am signed in as "chen.wei"
    When I create a Business "Corner Cafe" with:
      | field    | value                          |
      | name     | "  Corner Cafe  "              |
      | category | Cafe                           |
      | address  | the Address "7 Kuanzhai Alley" |
      | status   | active                         |
    Then the status is 201
    And the Business "Corner Cafe" has:
      | field       | value                     |
      | name        | Corner Cafe               |
      | category    | cafe                      |
      | status      | pending                   |
      | ratingCount | 0                         |
      | ratingAvg   | 0                         |
      | owner       | the _User "chen.wei"      |
      | location    | {"__type": "GeoPoint", "latitude": 30.669, "longitude": 104.056} |

  # The Business afterSave makes li.na's fixture row an owner; deleting the listing
  # afterwards does not make her a customer again.
  @fresh-app
  Scenario: A customer who lists a business becomes an owner
    Given I am signed in as "li.na"
    When I create a Business "Li Na's Noodles" with:
      | field    | value                          |
      | name     | Li Na's Noodles                |
      | category | restaurant                     |
      | address  | the Address "15 Nanluoguxiang" |
    Then the request succeeds
    And the _User "li.na" has:
      | field | value |
      | role  | owner |

  # Counts every Business: on a shared app a listing another scenario adds at the same
  # time (e.g. "Corner Cafe" above) changes the count.
  @fresh-app
  Scenario Outline: The cloud code refuses a listing that breaks a rule
    Given I am signed in as "chen.wei"
    When I create a Business with:
      | field    | value                          |
      | name     | <name>                         |
      | category | <category>                     |
      | address  | the Address "7 Kuanzhai Alley" |
    Then the cloud code refuses with "<message>"
    When I count Business
    Then the count is 30

    Examples:
      | name                    | category  | message                                                                                                     |
      | a text of 81 characters | cafe      | The business's name may have at most 80 characters; this one has 81.                                       |
      | Corner Cafe             | spaceship | "spaceship" is not a category: choose one of cafe, restaurant, bar, bakery, grocery, salon, repair, other. |
      | "   "                   | cafe      | Please enter the business's name.                                                                           |

  Scenario: Nobody signed in cannot list a business
    Given I am not signed in
    When I create a Business with:
      | field    | value                          |
      | name     | Ghost Cafe                     |
      | category | cafe                           |
      | address  | the Address "7 Kuanzhai Alley" |
    Then the create is refused by the class permissions

  # No tag for the refused writes below (this one and the next two): nothing is
  # written when the app works, and what they read back (name, status) changes only in
  # @fresh-app scenarios. Should a write get through, the scenario fails and the row
  # needs importing again.
  @smoke
  Scenario: A stranger cannot edit someone else's business
    Given I am signed in as "li.na"
    When I update the Business "Fuxing Lane Coffee" with:
      | field | value    |
      | name  | Mine Now |
    Then the write is refused by the object's ACL
    And the Business "Fuxing Lane Coffee" has:
      | field | value              |
      | name  | Fuxing Lane Coffee |

  @fresh-app
  Scenario: The owner renames the business
    Given I am signed in as "chen.wei"
    When I update the Business "Fuxing Lane Coffee" with:
      | field | value                   |
      | name  | Fuxing Lane Coffee & Co |
    Then the request succeeds
    And the Business "Fuxing Lane Coffee & Co" has:
      | field       | value  |
      | ratingCount | 7      |
      | status      | active |

  Scenario: The owner cannot change the status
    Given I am signed in as "chen.wei"
    When I update the Business "Fuxing Lane Coffee" with:
      | field  | value     |
      | status | suspended |
    Then the cloud code refuses with "Only moderators can change a business's status."
    And the Business "Fuxing Lane Coffee" has:
      | field  | value  |
      | status | active |

  Scenario: The rating counters are read-only
    Given I am signed in as "chen.wei"
    When I update the Business "Fuxing Lane Coffee" with:
      | field       | value |
      | ratingCount | 99    |
    Then the key "ratingCount" is read-only

  @fresh-app
  Scenario: A moderator suspends a business directly
    Given I am signed in as "mei.lin"
    When I update the Business "Fuxing Lane Coffee" with:
      | field  | value     |
      | status | suspended |
    Then the request succeeds
    And the Business "Fuxing Lane Coffee" has:
      | field       | value     |
      | status      | suspended |
      | ratingCount | 7         |

  # No tag: the delete is refused, so nothing changes.
  Scenario: Only the master key deletes a business
    Given I am signed in as "chen.wei"
    When I delete the Business "Kuanzhai Hot Pot"
    Then the delete is refused by the class permissions

  # Deletes a fixture business and its 7 reviews, and counts every Review.
  @smoke @fresh-app
  Scenario: Deleting a business deletes its reviews and fixes their authors' counts
    Given I use the master key
    When I delete the Business "Fuxing Lane Coffee"
    Then the request succeeds
    And the Business "Fuxing Lane Coffee" is gone
    When I count Review where:
      """json
      {"business": "@Business:Fuxing Lane Coffee"}
      """
    Then the count is 0
    When I count Review
    Then the count is 53
    And the _User "li.na" has:
      | field       | value |
      | reviewCount | 7     |
    And the _User "mei.lin" has:
      | field       | value |
      | reviewCount | 3     |
