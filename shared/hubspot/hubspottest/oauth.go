package hubspottest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// oauthError is the token endpoint's error body.
type oauthError struct {
	Status        string `json:"status"`
	Message       string `json:"message"`
	CorrelationID string `json:"correlationId"`
}

func (s *Server) handleOAuthToken(w http.ResponseWriter, r *http.Request) {
	fail := func(status, msg string) {
		writeJSON(w, http.StatusBadRequest, oauthError{Status: status, Message: msg, CorrelationID: s.correlationID()})
	}
	if err := r.ParseForm(); err != nil {
		fail("BAD_REQUEST", "the body must be application/x-www-form-urlencoded")
		return
	}
	switch {
	case r.PostForm.Get("grant_type") != "refresh_token":
		fail("BAD_GRANT_TYPE", fmt.Sprintf("unsupported grant_type %q; the sandbox supports refresh_token", r.PostForm.Get("grant_type")))
		return
	case r.PostForm.Get("client_id") != s.oauthApp.ClientID:
		fail("BAD_CLIENT_ID", "missing or unknown client id")
		return
	case r.PostForm.Get("client_secret") != s.oauthApp.ClientSecret:
		fail("BAD_CLIENT_SECRET", "missing or invalid client secret")
		return
	case r.PostForm.Get("refresh_token") != s.oauthApp.RefreshToken:
		fail("BAD_REFRESH_TOKEN", "missing or unknown refresh token")
		return
	}
	s.mu.Lock()
	s.tokenSeq++
	tok := fmt.Sprintf("sandbox-access-%d-%d", s.tokenSeq, s.corr.Add(1))
	s.accessTokens[tok] = s.clock().Add(s.tokenTTL)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	body := map[string]any{
		"token_type":    "bearer",
		"refresh_token": s.oauthApp.RefreshToken,
		"access_token":  tok,
		"expires_in":    int(s.tokenTTL / time.Second),
	}
	if strings.HasPrefix(r.URL.Path, "/oauth/2026-03/") {
		// The 2026-03 AccessTokenResponse also requires token_use.
		body["token_use"] = "access_token"
		body["hub_id"] = s.opts.PortalID
		if s.opts.OAuthCamelCase {
			body = map[string]any{"tokenType": "bearer", "refreshToken": s.oauthApp.RefreshToken, "accessToken": tok,
				"expiresIn": int(s.tokenTTL / time.Second), "tokenUse": "access_token", "hubId": s.opts.PortalID}
		}
	}
	_ = json.NewEncoder(w).Encode(body)
}

// AccessTokensIssued counts access tokens the token endpoint issued.
func (s *Server) AccessTokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenSeq
}

// ExpireAccessTokens makes every issued access token expired now.
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	for k := range s.accessTokens {
		s.accessTokens[k] = now
	}
}
