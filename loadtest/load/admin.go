package load

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// AdminWalletsPath is where a paycode's admin listener lists its wallets.
const AdminWalletsPath = "/admin/wallets"

// AdminWallet is one wallet a running paycode routes to, as GET
// AdminWalletsPath lists it. For a simulated wallet URL is the base URL
// that serves the ledger and the settlement file, as `paycode sim` does.
type AdminWallet struct {
	Name      string   `json:"name"`
	Prefixes  []string `json:"prefixes"`
	URL       string   `json:"url"`
	Simulated bool     `json:"simulated"`
}

// FetchAdminWallets asks a paycode's admin listener (base URL, e.g.
// http://127.0.0.1:9090) for its wallets.
func FetchAdminWallets(ctx context.Context, adminURL string, timeout time.Duration) ([]AdminWallet, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	u := strings.TrimRight(adminURL, "/") + AdminWalletsPath
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("load: admin %s: %w", adminURL, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("load: admin: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("load: admin %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("load: admin %s: HTTP %d (is this paycode's admin listener?)", u, resp.StatusCode)
	}
	var doc struct {
		Wallets []AdminWallet `json:"wallets"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("load: admin %s: not a wallet list: %w", u, err)
	}
	return doc.Wallets, nil
}

// LedgerURLs returns the ledger base URLs the correctness check needs for
// sc: those of the simulated wallets among ws (deduplicated, in order).
// Every routing prefix the scenario pays with must belong to a simulated
// wallet, or the check could not see those payments: the error names the
// prefix.
func LedgerURLs(sc *Scenario, ws []AdminWallet) ([]string, error) {
	var urls []string
	for _, w := range ws {
		if w.Simulated && w.URL != "" && !slices.Contains(urls, w.URL) {
			urls = append(urls, w.URL)
		}
	}
	prefixes := make([]string, 0, len(sc.Wallets))
	for p := range sc.Wallets {
		prefixes = append(prefixes, p)
	}
	slices.Sort(prefixes)
	for _, p := range prefixes {
		if sc.Wallets[p] <= 0 {
			continue
		}
		w, ok := ownerOf(p, ws)
		switch {
		case !ok:
			return nil, fmt.Errorf("load: the scenario pays with prefix %s, which no wallet of the target lists", p)
		case !w.Simulated || w.URL == "":
			return nil, fmt.Errorf("load: prefix %s goes to wallet %s, which is not simulated: its ledger cannot be read (use -no-check)", p, w.Name)
		}
	}
	if len(urls) == 0 {
		return nil, fmt.Errorf("load: the target lists no simulated wallet, so there is no ledger to check against (use -no-check)")
	}
	return urls, nil
}

// ownerOf is the wallet whose longest listed prefix starts code prefix p.
func ownerOf(p string, ws []AdminWallet) (AdminWallet, bool) {
	var best AdminWallet
	n := 0
	for _, w := range ws {
		for _, wp := range w.Prefixes {
			if len(wp) > n && strings.HasPrefix(p, wp) {
				best, n = w, len(wp)
			}
		}
	}
	return best, n > 0
}
