/// Field checks shared by IAM's inputs; each failure names the field.
public enum Validation {
    static func slug(_ value: String, field: String) throws(IAMError) {
        let allowed = value.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D }
        guard (2...63).contains(value.count), allowed, value.first != "-", value.last != "-" else {
            throw .invalidField(field: field, reason: "must be 2–63 lowercase letters, digits or '-', not starting or ending with '-'")
        }
    }

    /// Whether `value` is a username a realm accepts: 1–64 letters, digits, '.', '_', '@' or '-'.
    public static func isUsername(_ value: String) -> Bool {
        let allowed = value.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._@-".unicodeScalars.contains($0)) }
        return (1...64).contains(value.count) && allowed
    }

    static func username(_ value: String) throws(IAMError) {
        guard isUsername(value) else {
            throw .invalidField(field: "username", reason: "must be 1–64 characters of letters, digits, '.', '_', '@' or '-'")
        }
    }

    /// Whether `value` looks like an email address: one '@' with something on each side, a '.' after it.
    public static func isEmail(_ value: String) -> Bool {
        let parts = value.split(separator: "@")
        return value.count <= 254 && parts.count == 2 && parts[1].contains(".")
    }

    static func email(_ value: String?) throws(IAMError) {
        guard let value else { return }
        guard isEmail(value) else {
            throw .invalidField(field: "email", reason: "is not an email address")
        }
    }

    static func password(_ value: String) throws(IAMError) {
        // Counted in code points, as the API document's minLength counts them.
        guard value.unicodeScalars.count >= 8, value.utf8.count <= 1024 else {
            throw .invalidField(field: "password", reason: "must be at least 8 characters")
        }
    }

    static func name(_ value: String, field: String) throws(IAMError) {
        guard (1...100).contains(value.unicodeScalars.count) else { throw .invalidField(field: field, reason: "must be 1–100 characters") }
    }
}
