package hubspot

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// OAuth token endpoints: the 2026-03 OAuth API
// (https://developers.hubspot.com/docs/api-reference/2026-03/auth/oauth/tokens) and the v1 one
// it replaces, which HubSpot retires on 2027-02-16
// (https://developers.hubspot.com/changelog). Both take the same form body.
const (
	// OAuthTokenAPI202603 selects POST /oauth/2026-03/token (the default).
	OAuthTokenAPI202603 = "2026-03"
	// OAuthTokenAPIV1 selects the retiring POST /oauth/v1/token.
	OAuthTokenAPIV1 = "v1"
)

var oauthTokenPaths = map[string]string{
	OAuthTokenAPI202603: "/oauth/2026-03/token",
	OAuthTokenAPIV1:     "/oauth/v1/token",
}

// OAuth timing (our choices around HubSpot's 30-minute access tokens).
const (
	// oauthDefaultLifetime is used when the token response has no expires_in.
	oauthDefaultLifetime = 30 * time.Minute
	// oauthRefreshEarly refreshes this long before expiry, so a token never expires in flight.
	oauthRefreshEarly = 5 * time.Minute
)

// OAuthConfig is a public app's credentials for one installation.
type OAuthConfig struct {
	ClientID     string
	ClientSecret string
	RefreshToken string
}

// tokenSource gives the bearer token for a request.
type tokenSource interface {
	token(ctx context.Context) (string, error)
	// invalidate drops a token HubSpot rejected (401) so the next call refreshes. It reports
	// whether a retry can help.
	invalidate(tok string) bool
}

type staticToken string

func (t staticToken) token(context.Context) (string, error) { return string(t), nil }
func (staticToken) invalidate(string) bool                  { return false }

// oauthSource refreshes an access token with the refresh token. One refresh runs at a time;
// concurrent callers wait for it (or for their ctx).
type oauthSource struct {
	cfg      OAuthConfig
	tokenURL string
	hc       *http.Client
	clock    Clock
	onCall   func(status int, err error)

	mu         sync.Mutex
	access     string
	expires    time.Time
	early      time.Duration // refresh this long before expires
	refreshing chan struct{} // non-nil while a refresh is in flight
	lastErr    error
}

func (s *oauthSource) token(ctx context.Context) (string, error) {
	for {
		s.mu.Lock()
		if s.access != "" && s.clock.Now().Before(s.expires.Add(-s.early)) {
			tok := s.access
			s.mu.Unlock()
			return tok, nil
		}
		if ch := s.refreshing; ch != nil {
			s.mu.Unlock()
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-ch:
			}
			s.mu.Lock()
			err, tok, ok := s.lastErr, s.access, s.access != "" && s.clock.Now().Before(s.expires)
			s.mu.Unlock()
			if ok {
				return tok, nil
			}
			if err != nil {
				return "", err
			}
			continue
		}
		ch := make(chan struct{})
		s.refreshing = ch
		refresh := s.cfg.RefreshToken
		s.mu.Unlock()

		// The refresh runs detached from one caller's cancellation: others wait on it.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		tok, newRefresh, lifetime, err := s.refresh(rctx, refresh)
		cancel()

		s.mu.Lock()
		s.lastErr = err
		if err == nil {
			s.access = tok
			s.expires = s.clock.Now().Add(lifetime)
			s.early = min(oauthRefreshEarly, lifetime/6)
			if newRefresh != "" {
				s.cfg.RefreshToken = newRefresh
			}
		}
		s.refreshing = nil
		close(ch)
		s.mu.Unlock()
		if err != nil {
			return "", err
		}
		return tok, nil
	}
}

func (s *oauthSource) invalidate(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.access == tok {
		s.access = ""
	}
	return true
}

// oauthTokenResponse is a token answer. The spec gives snake_case names; HubSpot's 2026-03
// migration notes show camelCase ones too, so both are read (snake_case wins when both are set).
type oauthTokenResponse struct {
	AccessToken       string `json:"access_token"`
	RefreshToken      string `json:"refresh_token"`
	ExpiresIn         int64  `json:"expires_in"`
	AccessTokenCamel  string `json:"accessToken"`
	RefreshTokenCamel string `json:"refreshToken"`
	ExpiresInCamel    int64  `json:"expiresIn"`
}

func (r oauthTokenResponse) normalized() (access, refresh string, expiresIn int64) {
	return cmp.Or(r.AccessToken, r.AccessTokenCamel), cmp.Or(r.RefreshToken, r.RefreshTokenCamel), cmp.Or(r.ExpiresIn, r.ExpiresInCamel)
}

func (s *oauthSource) refresh(ctx context.Context, refresh string) (access, newRefresh string, lifetime time.Duration, err error) {
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"client_id":     {s.cfg.ClientID},
		"client_secret": {s.cfg.ClientSecret},
		"refresh_token": {refresh},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", "", 0, fmt.Errorf("hubspot: oauth refresh: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := s.hc.Do(req)
	if err != nil {
		s.onCall(0, err)
		return "", "", 0, fmt.Errorf("hubspot: oauth refresh: %w: %w", errNetwork, stripURL(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	s.onCall(resp.StatusCode, err)
	if err != nil {
		return "", "", 0, fmt.Errorf("hubspot: oauth refresh: %w: %w", errNetwork, err)
	}
	if resp.StatusCode/100 != 2 {
		ae := parseAPIError(resp.StatusCode, resp.Header, body, "oauth_token")
		return "", "", 0, fmt.Errorf("hubspot: oauth refresh: %w", ae)
	}
	var tr oauthTokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return "", "", 0, fmt.Errorf("hubspot: oauth refresh: decode response: %w", err)
	}
	access, newRefresh, expiresIn := tr.normalized()
	if access == "" {
		return "", "", 0, errors.New("hubspot: oauth refresh: response has no access token")
	}
	lifetime = oauthDefaultLifetime
	if expiresIn > 0 {
		lifetime = time.Duration(expiresIn) * time.Second
	}
	return access, newRefresh, lifetime, nil
}

// stripURL removes the request URL from a *url.Error (it may carry query values).
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
