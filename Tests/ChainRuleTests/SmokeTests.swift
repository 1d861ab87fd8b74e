import Testing
@testable import ChainRule

@Test func versionIsSet() { #expect(!ChainRuleVersion.string.isEmpty) }
