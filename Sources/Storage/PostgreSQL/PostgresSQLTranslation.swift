/// Turns the portable SQL the domain modules write into PostgreSQL's: `?` placeholders become `$n`,
/// and in DDL SQLite's 64-bit `INTEGER` becomes `BIGINT` and `REAL` becomes `DOUBLE PRECISION`
/// (PostgreSQL's `integer` is 32 bits and `real` single precision: millisecond timestamps and
/// ratios would not fit).
enum PostgresSQLTranslation {
    /// The statement with numbered placeholders (and PostgreSQL types when it is DDL).
    static func translate(_ sql: String) -> String {
        let numbered = numberPlaceholders(sql)
        return isDDL(numbered) ? widenTypes(numbered) : numbered
    }

    /// `?` outside quoted strings and identifiers becomes `$1`, `$2`, …
    static func numberPlaceholders(_ sql: String) -> String {
        var result = ""
        result.reserveCapacity(sql.utf8.count + 16)
        var quote: Character?
        var index = 0
        for character in sql {
            if let open = quote {
                if character == open { quote = nil }
                result.append(character)
            } else if character == "'" || character == "\"" {
                quote = character
                result.append(character)
            } else if character == "?" {
                index += 1
                result += "$\(index)"
            } else {
                result.append(character)
            }
        }
        return result
    }

    private static func isDDL(_ sql: String) -> Bool {
        let head = sql.drop { $0.isWhitespace }.prefix(12).uppercased()
        return head.hasPrefix("CREATE TABLE") || head.hasPrefix("ALTER TABLE")
    }

    /// Whole-word, upper-case type names only: column names are lower case in our schemas.
    private static func widenTypes(_ sql: String) -> String {
        var output = ""
        var word = ""
        func flush() {
            switch word {
            case "INTEGER": output += "BIGINT"
            case "REAL": output += "DOUBLE PRECISION"
            case "BLOB": output += "BYTEA"
            default: output += word
            }
            word = ""
        }
        for character in sql {
            if character.isLetter || character.isNumber || character == "_" {
                word.append(character)
            } else {
                flush()
                output.append(character)
            }
        }
        flush()
        return output
    }
}
