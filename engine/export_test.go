package engine

// MaxVoidClients is the bound of the void budget's map, for its test.
const MaxVoidClients = maxVoidClients
