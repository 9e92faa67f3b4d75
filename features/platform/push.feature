@platform
Feature: Push notifications
  A push reaches the installations subscribed to its channel; what each would have
  received is in the emulator's outbox.

  Scenario: A push to a channel reaches its subscribers only
    Given an installation "tok-news-1" subscribed to "news"
    And an installation "tok-weather-1" subscribed to "weather"
    And I am signed in as "mei.lin"
    When I push "Doors open at 9" to the channel "news"
    Then the request succeeds
    And the installation "tok-news-1" was sent "Doors open at 9"
