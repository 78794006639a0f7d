package postgres

// LoseNextRenew makes s's next Renew commit and then lose its answer, as
// a connection dropped after the commit does.
func LoseNextRenew(s *Store) { s.loseRenew.Store(true) }
