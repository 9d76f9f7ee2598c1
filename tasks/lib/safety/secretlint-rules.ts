import type { SecretRule } from './secret-rule.ts';

/**
 * Rules that mirror @secretlint/secretlint-rule-preset-recommend 11.7.1 (MIT License, Copyright (c)
 * azu), the second engine that rescans every export before it is published, where its shapes are
 * wider than gitleaks' or gitleaks has none: screen then never lets through what the rescan would
 * refuse. The URL and database shapes are in distill-rules.ts with the other credential URLs.
 */
export function secretlintRules(since: string): SecretRule[] {
  const G = 'g';
  return [
    {
      id: 'aws-secret-access-key',
      since,
      source: 'secretlint',
      description: 'AWS secret access key assigned to aws_secret_access_key (git-secrets pattern)',
      keywords: ['secret'],
      regex: new RegExp(
        String.raw`secret_?access_?key["']?\s{0,3}(?::|=>|=)\s{0,3}["']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])`,
        'gi',
      ),
      check: (s) => s !== 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    },
    {
      id: 'github-xoauth-url',
      since,
      source: 'secretlint',
      description: 'GitHub token in an x-oauth-basic clone URL',
      keywords: ['x-oauth-basic'],
      regex: new RegExp(String.raw`https?://([^\s:@/]{1,256}):x-oauth-basic@github\.com/`, G),
      secret: (m) => ({ text: m[0], start: m.index }),
    },
    {
      id: 'slack-token',
      since,
      source: 'secretlint',
      description: 'Any Slack token shape (xoxb/xoxp/xapp/xoxa/xoxo/xoxr, secretlint pattern)',
      keywords: ['xoxb-', 'xoxp-', 'xapp-', 'xoxa-', 'xoxo-', 'xoxr-'],
      regex: new RegExp(
        String.raw`\b((?:xoxb|xoxp|xapp|xoxa|xoxo|xoxr)-(?:\d-)?(?:[a-zA-Z0-9]{1,40}-){1,8}[a-zA-Z0-9]{1,40})\b`,
        G,
      ),
    },
    {
      id: 'npmrc-auth-token',
      since,
      source: 'secretlint',
      description: '_authToken= line of an .npmrc',
      keywords: ['_authtoken='],
      regex: new RegExp(String.raw`_authToken=([^$\s][^\s]{0,511})`, G),
    },
    {
      id: 'shopify-token',
      since,
      source: 'secretlint',
      description: 'Shopify access token / shared secret (shpat_, shpca_, shppa_, shpss_)',
      keywords: ['shpat_', 'shpca_', 'shppa_', 'shpss_'],
      regex: new RegExp(String.raw`\b((?:shppa|shpca|shpat|shpss)_[a-zA-Z0-9]{32,64})(?![a-zA-Z0-9])`, G),
    },
    {
      id: 'linear-api-key',
      since,
      source: 'secretlint',
      description: 'Linear API key (lin_api_, secretlint shape: wider than gitleaks 40 characters)',
      keywords: ['lin_api_'],
      regex: new RegExp(String.raw`\b(lin_api_[a-zA-Z0-9_]{32,128})(?![a-zA-Z0-9_])`, G),
    },
    {
      id: '1password-service-account-token',
      since,
      source: 'secretlint',
      description: '1Password service account token (ops_eyJ…, secretlint shape: wider than gitleaks 250+)',
      keywords: ['ops_'],
      regex: new RegExp(String.raw`\b(ops_ey[A-Za-z0-9+/=]{100,1280}fQ={0,2})(?![A-Za-z0-9+/=])`, G),
    },
  ];
}
