@users @phone @fresh-app
Feature: Owners sign in by phone
  A business owner with a verified number signs in with a code sent by SMS; QA reads the
  code from the emulator's outbox. Banned users stay out whichever way they sign in.

  Scenario: An owner signs in with the SMS code sent to their phone
    Given "chen.wei" has the verified phone "+8613800138000"
    When a log-in code is requested for "+8613800138000"
    Then the request succeeds
    And an SMS with a code was sent to "+8613800138000"
    When "chen.wei" signs in with the SMS code sent to "+8613800138000"
    Then I am signed in as "chen.wei"
    And my session is valid

  Scenario: A number nobody has gets no code
    When a log-in code is requested for "+8613900000000"
    Then the request fails with 400 and code 213

  Scenario: A banned user cannot sign in by SMS either
    Given "cheapdeals88" has the verified phone "+8613700000000"
    When a log-in code is requested for "+8613700000000"
    And "cheapdeals88" signs in with the SMS code sent to "+8613700000000"
    Then the request fails with 401 and code 142
