public enum ChainRuleVersion { public static let string = "0.1.0" }
