// Small inline SVG icons: they draw the same everywhere (an emoji depends on the fonts a
// machine has), and they are always beside words that say the same thing (aria-hidden).

export type IconName = 'clock' | 'warning' | 'breach' | 'check' | 'bell';

const PATHS: Record<IconName, string> = {
  clock: 'M8 1.5a6.5 6.5 0 1 0 0 13 6.5 6.5 0 0 0 0-13ZM8 4v4.3l2.8 1.7',
  warning: 'M8 1.8 15 14H1L8 1.8ZM8 6v3.8M8 11.6v.4',
  breach: 'M5.2 1.5h5.6l3.7 3.7v5.6l-3.7 3.7H5.2l-3.7-3.7V5.2l3.7-3.7ZM5.5 5.5l5 5M10.5 5.5l-5 5',
  check: 'M2.5 8.5 6 12l7.5-8',
  bell: 'M8 1.8a4 4 0 0 0-4 4v3.1L2.6 11.4h10.8L12 8.9V5.8a4 4 0 0 0-4-4ZM6.3 13.2a1.8 1.8 0 0 0 3.4 0',
};

export function Icon({ name }: { name: IconName }) {
  return (
    <svg
      class="icon"
      data-icon={name}
      viewBox="0 0 16 16"
      width="14"
      height="14"
      aria-hidden="true"
      focusable="false"
    >
      <path d={PATHS[name]} />
    </svg>
  );
}
