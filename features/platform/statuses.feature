@platform
Feature: Follows and the status inbox
  A user's status reaches the inboxes of those who follow them.

  @fresh-app
  Scenario: A status reaches a follower's inbox
    Given I am signed in as "mei.lin"
    When I follow "li.na"
    Then the request succeeds
    Given I am signed in as "li.na"
    When I post the status "Grand opening on Friday" to my followers
    Then the request succeeds
    Given I am signed in as "mei.lin"
    Then my inbox holds ["Grand opening on Friday"]
