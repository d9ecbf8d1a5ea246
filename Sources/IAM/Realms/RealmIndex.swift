/// The realms in memory, by name and by id: every authenticated request looks one up.
struct RealmIndex: Sendable {
    private var byName: [String: Realm] = [:]
    private var nameByID: [String: String] = [:]

    init(_ realms: [Realm] = []) {
        for realm in realms { upsert(realm) }
    }

    subscript(name name: String) -> Realm? { byName[name] }

    subscript(id id: String) -> Realm? { nameByID[id].flatMap { byName[$0] } }

    var all: [Realm] { Array(byName.values) }

    mutating func remove(id: String) {
        if let name = nameByID.removeValue(forKey: id) { byName[name] = nil }
    }

    mutating func upsert(_ realm: Realm) {
        byName[realm.name] = realm
        nameByID[realm.id] = realm.name
    }
}
