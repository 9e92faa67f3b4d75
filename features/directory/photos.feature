@directory
Feature: Business photos
  An owner gives a listing a storefront photo: an uploaded JPEG, PNG or WebP image of at
  most 5 MB. Anything else is refused with the rule.

  Scenario: An owner adds a listing with a storefront photo
    Given I am signed in as "chen.wei"
    And I upload the file "storefront.png"
    When I create a Business "Photo Corner" with:
      | field    | value                          |
      | name     | Photo Corner                   |
      | category | cafe                           |
      | address  | the Address "7 Kuanzhai Alley" |
      | photo    | the file "storefront.png"      |
    Then the status is 201

  Scenario: A text file is not a photo
    Given I am signed in as "chen.wei"
    And I upload the file "menu.txt"
    When I create a Business "Text Corner" with:
      | field    | value                          |
      | name     | Text Corner                    |
      | category | cafe                           |
      | address  | the Address "7 Kuanzhai Alley" |
      | photo    | the file "menu.txt"            |
    Then the request fails with 400 and code 142
