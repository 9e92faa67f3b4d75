@users
Feature: Signing up and logging in
  Fixture users log in with "<username>-pass". Sign-up makes a customer whatever the
  client sends, and a banned user is turned away at log-in by the onLogin hook.

  @smoke
  Scenario: A fixture user logs in and the session works
    When I log in as "mei.lin"
    Then I am signed in as "mei.lin"
    And the answer has no field "password"
    And my session is valid

  Scenario: A wrong password is refused
    When I log in as "mei.lin" with the password "not-her-password"
    Then the request fails with 400 and code 210

  Scenario: A banned user cannot log in
    When I log in as "cheapdeals88"
    Then the request fails with 401 and code 142
    And the error message contains "This account has been suspended."

  # No tag: the user is the scenario's own, deleted after it. Its username has no run
  # prefix, so two runs at the same time on one app would clash on it.
  Scenario: Sign-up makes a customer whatever the client sends
    When I sign up as "new.customer" with:
      | field       | value          |
      | displayName | "  New Face  " |
      | role        | owner          |
      | banned      | true           |
      | reviewCount | 99             |
    Then the status is 201
    And the answer has the field "sessionToken"
    And the _User "new.customer" has:
      | field       | value    |
      | displayName | New Face |
      | role        | customer |
      | banned      | false    |
      | reviewCount | 0        |

  Scenario: A display name longer than 40 characters is refused at sign-up
    When I sign up as "long.name" with:
      | field       | value                    |
      | displayName | a text of 41 characters  |
    Then the cloud code refuses with "A display name may have at most 40 characters; this one has 41."

  # No tag: refused, so nothing changes (li.na's reviewCount changes only in @fresh-app
  # scenarios).
  Scenario: Users cannot change the fields the app manages
    Given I am signed in as "li.na"
    When I update the _User "li.na" with:
      | field       | value |
      | reviewCount | 100   |
    Then the key "reviewCount" is read-only
    And the _User "li.na" has:
      | field       | value |
      | reviewCount | 8     |
