@platform
Feature: Leaderboards
  A board keeps each user's statistic by its update strategy and ranks them.

  Scenario: The better score is kept and ranked first
    Given a leaderboard "review_stars" ordered descending keeping the better
    And I am signed in as "mei.lin"
    When I submit 40 to the leaderboard "review_stars"
    Then the request succeeds
    When I submit 25 to the leaderboard "review_stars"
    Given I am signed in as "li.na"
    When I submit 30 to the leaderboard "review_stars"
    Then the leaderboard "review_stars" ranks ["mei.lin", "li.na"]
