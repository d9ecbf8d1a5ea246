/// A directory's blocking conversations, each on a fresh connection bound with the service account:
/// read everything (a sync), or find one user and check their password (a sign-in). Called on the
/// identity service's worker threads only.
struct DirectoryClient: Sendable {
    let endpoint: LDAPConnection.Endpoint
    let bindDN: String
    let bindSecret: String
    let mapping: DirectorySnapshot.Mapping

    init(settings: Directory.Settings, bindSecret: String) {
        endpoint = LDAPConnection.Endpoint(url: settings.url, startTLS: settings.startTls, caFile: settings.caFile, timeoutSeconds: settings.timeoutSeconds)
        bindDN = settings.bindDn
        self.bindSecret = bindSecret
        mapping = DirectorySnapshot.Mapping(userBase: settings.userBase, userFilter: settings.userFilter, usernameAttribute: settings.usernameAttribute,
                                            emailAttribute: settings.emailAttribute, firstNameAttribute: settings.firstNameAttribute,
                                            lastNameAttribute: settings.lastNameAttribute, idAttribute: settings.idAttribute,
                                            groupBase: settings.groupBase, groupFilter: settings.groupFilter, memberAttribute: settings.memberAttribute)
    }

    /// Every user with their groups.
    func snapshot() throws(LDAPError) -> DirectorySnapshot {
        try DirectorySnapshot.read(try serviceConnection(), mapping: mapping)
    }

    /// What a sign-in learns: nil when no single entry has the username, else the entry and whether
    /// the password binds as it.
    func authenticate(username: String, password: String) throws(LDAPError) -> (user: DirectorySnapshot.User, passwordMatches: Bool)? {
        guard let user = try DirectorySnapshot.user(named: username, try serviceConnection(), mapping: mapping) else { return nil }
        // A separate connection: the user's bind must not change what the service connection may read.
        let own = try LDAPConnection(endpoint)
        guard !password.isEmpty else { return (user, false) }
        return (user, try own.bind(dn: user.dn, password: password))
    }

    private func serviceConnection() throws(LDAPError) -> LDAPConnection {
        let connection = try LDAPConnection(endpoint)
        guard try connection.bind(dn: bindDN, password: bindSecret) else {
            throw .refused(code: 49, "the directory refused the bind DN and secret")
        }
        return connection
    }
}
