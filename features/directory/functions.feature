@directory @functions
Feature: The app's cloud functions
  nearbyBusinesses finds active businesses around a point, businessSummary sums up a
  business's reviews, moderateBusiness lets moderators approve and suspend listings,
  and normalizePhone writes phone numbers in E.164.

  @smoke
  Scenario: Nearby businesses are the active ones within the radius, nearest first
    When I call "nearbyBusinesses" with:
      """json
      {"lat": 35.67, "lng": 139.705, "radiusKm": 20}
      """
    Then the request succeeds
    And the result's "name" are ["Harajuku Ramen Ichi", "Kichijoji Kissa"]
    And the answer has:
      | field                      | value            |
      | result.0.distanceKm        | 0                |
      | result.0.address.street    | 1-8-3 Jingumae   |

  Scenario: Nearby businesses of one category
    When I call "nearbyBusinesses" with:
      | field    | value  |
      | lat      | 35.67  |
      | lng      | 139.705 |
      | radiusKm | 20     |
      | category | Cafe   |
    Then the result's "name" are ["Kichijoji Kissa"]

  # No tag: only @fresh-app scenarios change the status of Pearl River Print Shop
  # (pending) or of the suspended businesses, and a new listing is pending, so none
  # shows up here on a shared app either.
  Scenario: Suspended and pending businesses are not found nearby
    When I call "nearbyBusinesses" with:
      """json
      {"lat": 23.125, "lng": 113.269, "radiusKm": 1}
      """
    Then the request succeeds
    And the field "result" has 0 items

  Scenario: The search radius is at most 50 km
    When I call "nearbyBusinesses" with:
      """json
      {"lat": 35.67, "lng": 139.705, "radiusKm": 80}
      """
    Then the request fails with 400 and code 142
    And the error is 142 "The search radius must be more than 0 and at most 50 km; 80 is not."

  # No tag, though it checks exact counters, a histogram and the latest reviews: every
  # scenario that reviews, renames, suspends or deletes Fuxing Lane Coffee is
  # @fresh-app, so nothing on a shared app changes them. A scenario that does must be
  # @fresh-app too, or this one fails there.
  Scenario: A business's summary counts its reviews by stars
    When I call "businessSummary" with:
      """json
      {"businessId": "{Business:Fuxing Lane Coffee}"}
      """
    Then the answer has:
      | field              | value              |
      | result.name        | Fuxing Lane Coffee |
      | result.status      | active             |
      | result.ratingCount | 7                  |
      | result.ratingAvg   | 4.43               |
      | result.histogram   | {"1": 0, "2": 0, "3": 1, "4": 2, "5": 4} |
    And the field "result.latestReviews" has 5 items
    And the field "result.latestReviews.0.author.displayName" is Jake Miller

  Scenario: The summary of a business that does not exist
    When I call "businessSummary" with:
      """json
      {"businessId": "000000000000000000000000"}
      """
    Then the request fails with 404 and code 101
    And the error is 101 "This business does not exist."

  # Activates the fixture Pearl River Print Shop, then reviews it (its counters and
  # sam.patel's reviewCount move).
  @smoke @fresh-app
  Scenario: A moderator approves a pending business, which can then be reviewed
    Given I am signed in as "mei.lin"
    When I call "moderateBusiness" with:
      """json
      {"businessId": "{Business:Pearl River Print Shop}", "status": "active"}
      """
    Then the result is:
      """json
      {"businessId": "{Business:Pearl River Print Shop}", "status": "active", "previousStatus": "pending"}
      """
    And the Business "Pearl River Print Shop" has:
      | field  | value  |
      | status | active |
    Given I am signed in as "sam.patel"
    When I create a Review with:
      | field    | value                                 |
      | business | the Business "Pearl River Print Shop" |
      | stars    | 4                                     |
    Then the request succeeds
    And the Business "Pearl River Print Shop" has:
      | field       | value |
      | ratingCount | 1     |

  # No tag: refused, so nothing changes (the status it reads changes only in @fresh-app
  # scenarios).
  Scenario: A customer may not moderate
    Given I am signed in as "li.na"
    When I call "moderateBusiness" with:
      """json
      {"businessId": "{Business:Pearl River Print Shop}", "status": "active"}
      """
    Then the request fails with 403 and code 403
    And the error message contains "Only moderators can change a business's status."
    And the Business "Pearl River Print Shop" has:
      | field  | value   |
      | status | pending |

  Scenario: Moderating needs a signed-in moderator
    Given I am not signed in
    When I call "moderateBusiness" with:
      """json
      {"businessId": "{Business:Pearl River Print Shop}", "status": "active"}
      """
    Then the request fails with 401 and code 401

  Scenario Outline: Phone numbers come back in E.164
    When I call "normalizePhone" with:
      | field   | value     |
      | phone   | <phone>   |
      | country | <country> |
    Then the field "result" is "<e164>"

    Examples:
      | phone          | country | e164          |
      | 030 1234567    | de      | +49301234567  |
      | (415) 555-0142 | US      | +14155550142  |
      | 138 0013 8000  | CN      | +8613800138000 |
